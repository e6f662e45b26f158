"""The build, step by step: spec -> plan -> diff -> eval report -> (gate) -> artifact.

Each `produce_*` function is one asset's body: values in, value out, with the store and the workspace
at the edges. Dagster's assets call them (mb_dagster.build / mb_dagster.release), and so does
`run_build_direct`, the same pipeline without Dagster (the benchmark compares the two).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mb_core import __version__, chaos
from mb_core.agents.base import AgentContext, AgentRequest, AgentRole, LLMProvider, run_agent
from mb_core.agents.io import (
    ArchitectInput,
    CodegenInput,
    DesignerInput,
    DevopsInput,
    DiffStats,
    QAInput,
    ReviewInput,
    SecurityInput,
)
from mb_core.agents.registry import definition_for
from mb_core.agents.reviewer import declared_operations
from mb_core.agents.security import effective_risk
from mb_core.asset_files import AssetFiles
from mb_core.chaos import corrupt_generated
from mb_core.errors import InvalidState, MBError, SpecRefused
from mb_core.failures import classify_failure, report_failure
from mb_core.gate import gate_for
from mb_core.lifecycle import BuildEvent
from mb_core.metering import Budget, Meter
from mb_core.models import (
    ApprovalDecision,
    ApprovalGate,
    BuildArtifact,
    BuildRun,
    BuildStatus,
    DiffArtifact,
    EvalReport,
    FailureClass,
    GeneratedFiles,
    SandboxInfo,
    ScaffoldPlan,
    ScaffoldSpec,
    StepStatus,
    TestOutcome,
    sha256_text,
)
from mb_core.providers.offline import OfflineProvider
from mb_core.settings import Settings
from mb_core.store import Store
from mb_core.workspace import Workspace

log = logging.getLogger("mb.steps")

from mb_core.healing import mark_base_commit, read_base_commit


@dataclass
class BuildEnvironment:
    """What every step needs: where things live and the store. Opened once per process/run."""

    settings: Settings
    store: Store

    @classmethod
    def open(cls, settings: Settings | None = None) -> BuildEnvironment:
        settings = settings or Settings.from_env()
        settings.home.mkdir(parents=True, exist_ok=True)
        store = Store.from_url(settings.database_url)
        store.migrate()
        return cls(settings=settings, store=store)

    @property
    def assets(self) -> AssetFiles:
        return AssetFiles(self.settings.assets_dir)

    def provider_for(self, build: BuildRun, override: str | None = None) -> LLMProvider:
        name = override or build.provider
        if name == "offline":
            provider: LLMProvider = OfflineProvider()
            self.model_choice(build, provider.name, [OfflineProvider.model])  # one model, still kept
            return provider
        from mb_core.providers.factory import model_candidates, provider_from_settings

        # Replay answers only from what this build recorded when it first ran.
        bundle = self.store.list_exchanges(build.id) if name == "replay" else None
        provider = provider_from_settings(name, os.environ, replay_bundle=bundle)
        if name != "replay":
            # The attempt's model: its tier, the budget left, the prices and what each candidate
            # was seen to do. A role named in MB_MODEL_<ROLE> keeps its own model.
            provider.default_model = self.model_choice(build, name, model_candidates(os.environ),
                                                       getattr(provider, "price_table", None)).model
        return provider

    def model_choice(self, build: BuildRun, provider: str, candidates: list[str], prices=None):
        """The model kept for the build's current attempt (chosen on the first call)."""
        from mb_core.metering import price_table_from_env
        from mb_core.scheduling.observed import model_for_attempt

        return model_for_attempt(self.store, build, provider, candidates,
                                 prices or price_table_from_env(os.environ), lambda: self.cost_left(build))

    def cost_left(self, build: BuildRun) -> float | None:
        """USD the build may still spend: the tightest of its budget (MB_BUDGET_USD and its kept
        flags), its tenant's (MB_TENANT_BUDGET_USD) and its run budget; None when none is set."""
        lefts = [m.budget.max_cost_usd - m.total.cost_usd for m in self.meters(build)
                 if m.budget.max_cost_usd is not None]
        run = self.store.get_budget(build.id)
        if run is not None and run.max_cost_usd is not None:
            lefts.append(run.max_cost_usd - self.store.usage_totals(build.id)["total"]["cost_usd"])
        return max(0.0, min(lefts)) if lefts else None

    def agent_context(self, build: BuildRun, provider: LLMProvider) -> AgentContext:
        if provider.name == "replay":
            # A replay spends nothing and its answers are the build's own record: recording them
            # again would double the bundle, and no budget is checked.
            return AgentContext(provider=provider, build_id=build.id)
        from mb_core.providers.chaos import with_chaos

        provider = with_chaos(provider)
        meters = self.meters(build)

        from mb_core.agents.base import estimate_tokens
        from mb_core.errors import BudgetExceeded
        from mb_core.slo import run_budget_guard

        run_budget = run_budget_guard(self.store, build.id)

        def check_budgets(request: AgentRequest) -> None:
            for meter in meters:
                meter.check(request)  # BudgetExceeded stops the step, and the build with it
            # The run SLO (all attempts of the build), before every call, not only each attempt.
            spent = meters[0].total
            reason = run_budget(spent.total_tokens, spent.cost_usd,
                                estimate_tokens(request.system) + estimate_tokens(request.prompt))
            if reason is not None:
                raise BudgetExceeded(f"{reason}; {request.role.value} was not called")

        return AgentContext(provider=provider, build_id=build.id,
                            recorders=[self.store.exchange_recorder(build.id),
                                       *(m.record for m in meters)],
                            before_call=check_budgets)

    def meters(self, build: BuildRun) -> list[Meter]:
        """The build's meter, resumed from what its earlier steps (maybe other processes)
        recorded, and the tenant's when MB_TENANT_BUDGET_* sets a limit."""
        # The time budget counts from the build's submission: its steps run in several runs.
        created = build.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        elapsed = max(0.0, (datetime.now(UTC) - created).total_seconds())
        meters = [Meter.from_usage_totals(self.store.usage_totals(build.id),
                                          self._build_budget(build), elapsed_before_s=elapsed)]
        tenant_budget = Budget.from_env(os.environ, prefix="MB_TENANT_BUDGET")
        if tenant_budget != Budget():
            meters.append(Meter.from_usage_totals(self.store.usage_totals(tenant=build.tenant),
                                                  tenant_budget.model_copy(update={"max_seconds": None})))
        return meters

    def _build_budget(self, build: BuildRun) -> Budget:
        """MB_BUDGET_* and the build's kept budget flags (tokens, USD): the tighter limit holds
        before every call. The flags' time budget counts running attempts, so the ladder keeps it."""
        from mb_core.store.platform import kept_build_flags

        budget = Budget.from_env(os.environ)
        kept = kept_build_flags(self.store, build.id).run_budget()
        tighter = {name: min(v for v in (getattr(budget, name), limit) if v is not None)
                   for name, limit in (("max_tokens", kept.max_tokens), ("max_cost_usd", kept.max_cost_usd))
                   if getattr(budget, name) is not None or limit is not None}
        return budget.model_copy(update=tighter)

    def usage(self, build: BuildRun) -> dict:
        """Tokens and cost per role so far, the budget and what is left: the `usage` metadata."""
        return self.meters(build)[0].summary()

    def workspace_path(self, build_id: str) -> Path:
        return self.settings.workspaces_dir / build_id

    def artifact_dir(self, build_id: str) -> Path:
        return self.settings.artifacts_dir / build_id


def ensure_not_cancelled(env: BuildEnvironment, build_id: str) -> None:
    """Called before anything is committed: a cancelled build changes nothing more."""
    if env.store.get_build(build_id).status == BuildStatus.cancelled:
        raise InvalidState(f"build {build_id} was cancelled")


@contextmanager
def build_step(env: BuildEnvironment, build_id: str, name: str) -> Iterator[None]:
    """Records a step in the store and tells the CLI (through the `mb.steps` logger) as it goes."""
    build = env.store.get_build(build_id)
    if build.status == BuildStatus.cancelled:
        raise InvalidState(f"build {build_id} was cancelled")
    env.store.start_step(build_id, name)
    log.info("started", extra={"mb_build": build_id, "mb_step": name})
    started = time.perf_counter()
    try:
        # The step's seams (provider, store, sandbox, git apply) may meet the attempt's fault.
        with chaos.attempt_scope(build_id, build.attempt, injector=_chaos_injector(env, build_id),
                                 record=env.store.record_chaos_event):
            chaos.kill_worker_at(name)
            yield
    except BaseException as exc:
        detail = str(exc) if isinstance(exc, MBError) else f"{type(exc).__name__}: {exc}"
        env.store.finish_step(build_id, name, StepStatus.failed, detail=detail[:2000],
                              failure_class=classify_failure(exc))
        log.info("failed", extra={"mb_build": build_id, "mb_step": name,
                                  "mb_seconds": time.perf_counter() - started, "mb_detail": detail})
        raise
    env.store.finish_step(build_id, name, StepStatus.succeeded)
    log.info("succeeded", extra={"mb_build": build_id, "mb_step": name,
                                 "mb_seconds": time.perf_counter() - started})


def fail_build(env: BuildEnvironment, build_id: str, reason: str,
               failure_class: FailureClass | None = None) -> None:
    env.store.transition(build_id, BuildEvent.fail, error=reason, failure_class=failure_class,
                         expected={BuildStatus.running, BuildStatus.submitted})


# --------------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------------


def produce_spec(env: BuildEnvironment, build: BuildRun, ctx: AgentContext) -> ScaffoldSpec:
    with build_step(env, build.id, "spec"):
        base_spec = None
        if build.base_build_id:
            base_spec = env.assets.read("spec", build.base_build_id, ScaffoldSpec)
            if base_spec is None:
                raise InvalidState(f"base build {build.base_build_id} has no spec to extend")
        try:
            spec = run_agent(
                definition_for(AgentRole.product_architect),
                ArchitectInput(text=build.spec_text, mode=build.mode, base_spec=base_spec),
                ctx,
            )
        except SpecRefused as exc:
            fail_build(env, build.id, f"spec refused: {exc}", FailureClass.spec_refused)
            raise
        if build.base_build_id:
            spec = spec.model_copy(update={"base_build_id": build.base_build_id})
        return spec


def produce_plan(env: BuildEnvironment, build: BuildRun, spec: ScaffoldSpec,
                 ctx: AgentContext) -> ScaffoldPlan:
    with build_step(env, build.id, "plan"):
        base_plan = None
        if build.base_build_id:
            base_plan = env.assets.read("plan", build.base_build_id, ScaffoldPlan)
        designed = run_agent(definition_for(AgentRole.system_designer),
                             DesignerInput(spec=spec, base_plan=base_plan), ctx)
        plan = run_agent(definition_for(AgentRole.security), SecurityInput(plan=designed), ctx)
        env.store.set_risk(build.id, plan.risk_score)
        return plan


def _open_workspace(env: BuildEnvironment, build: BuildRun) -> tuple[Workspace, str]:
    """The build's workspace and the commit it started from (created on first use)."""
    path = env.workspace_path(build.id)
    if (path / ".git").exists():
        return Workspace(path), read_base_commit(path)
    source: Path | None = None
    if build.base_build_id:
        source = env.workspace_path(build.base_build_id)
        if not (source / ".git").exists():
            raise InvalidState(f"base build {build.base_build_id} has no workspace to build on")
    elif build.repo_path:
        source = Path(build.repo_path)
    ws = Workspace.create(path, source=source)
    base = ws.head()
    mark_base_commit(path, base)
    return ws, base


def generate_files(plan: ScaffoldPlan, ctx: AgentContext) -> GeneratedFiles:
    app = run_agent(definition_for(AgentRole.codegen), CodegenInput(plan=plan), ctx)
    devops = run_agent(definition_for(AgentRole.devops), DevopsInput(plan=plan), ctx)
    # DevOps owns the deployment files; where both wrote a path, its version wins.
    merged = {f.path: f for f in app.files} | {f.path: f for f in devops.files}
    return GeneratedFiles(
        files=[merged[path] for path in sorted(merged)],
        deleted=sorted(set(app.deleted) | set(devops.deleted)),
        notes=app.notes + devops.notes,
    )


def _chaos_injector(env: BuildEnvironment, build_id: str) -> chaos.FaultInjector:
    """The build's injector: its kept META_V4_CHAOS_ENABLED switches it (platform < tenant < run),
    the environment gives the probability, seed and seams."""
    from mb_core.platform.build_flags import chaos_settings
    from mb_core.store.platform import kept_build_flags

    return chaos.FaultInjector(chaos_settings(kept_build_flags(env.store, build_id)))


def inject_code_fault(env: BuildEnvironment, build: BuildRun, generated: GeneratedFiles) -> GeneratedFiles:
    """The codegen chaos seam: maybe one semantic fault in one generated module."""
    fault = chaos.inject("codegen", quiet=True)
    if fault is None:
        return generated
    corrupted, what = corrupt_generated(generated, fault)
    log.info("chaos", extra={"mb_build": build.id, "mb_step": "diff", "mb_detail": what})
    return corrupted


def produce_diff(env: BuildEnvironment, build: BuildRun, plan: ScaffoldPlan, ctx: AgentContext,
                 iteration: int = 1) -> DiffArtifact:
    from mb_core.diff_safety import diff_stats

    with build_step(env, build.id, "diff"):
        ws, base = _open_workspace(env, build)
        # Re-materializing starts from the build's base again, so a retry never stacks patches.
        if ws.head() != base:
            ws.rollback(base)
        generated = inject_code_fault(env, build, generate_files(plan, ctx))
        patch = ws.render_diff(generated)
        if not patch.strip():
            raise MBError(f"build {build.id}: the generated change is empty; nothing to build")
        ensure_not_cancelled(env, build.id)
        head = ws.apply_diff(patch, f"{plan.title}\n\nGenerated by Meta-Builder build {build.id}.",
                             limits=env.settings.diff_limits)
        files, added, removed = diff_stats(patch)
        return DiffArtifact(
            build_id=build.id,
            iteration=iteration,
            base_commit=base,
            patch=patch,
            sha256=sha256_text(patch),
            files_changed=files,
            added_lines=added,
            removed_lines=removed,
            head_commit=head,
        )


def produce_eval_report(env: BuildEnvironment, build: BuildRun, diff: DiffArtifact,
                        ctx: AgentContext, plan: ScaffoldPlan | None = None) -> EvalReport:
    """Tests and probes in the sandbox, the quality gates with their evidence, confidence v4.

    The generated suite and the builder's probes run apart (mb_core.evaluation.probes says why);
    the review of the tree (harness tampering, CI files) adds findings and raises the risk. The
    probes live in the sandbox's harness folder only: the workspace and the artifact never hold
    them. A failed ERROR gate fails the report, so the release gate refuses the build.
    """
    from mb_core.evaluation.ci_review import review_ci
    from mb_core.evaluation.confidence import score_confidence
    from mb_core.evaluation.probes import probe_run, suite_run
    from mb_core.evaluation.results_table import preload as preload_results_validator
    from mb_core.evaluation.results_table import validate_results_table
    from mb_core.evaluation.tree_review import review_tree
    from mb_core.quality import (
        SAFETY_GATES,
        failed_errors,
        gate_failure_summary,
        quality_checks,
        run_bandit,
    )
    from mb_core.requirements import requirements_gate, trace_requirements
    from mb_core.sandbox import run_tests

    with build_step(env, build.id, "eval_report"):
        plan = plan or env.assets.read("plan", build.id, ScaffoldPlan)
        ws = Workspace(env.workspace_path(build.id))
        timeout = env.settings.sandbox_timeout_s
        with tempfile.TemporaryDirectory(prefix=f"mb-eval-{build.id}-") as tmp:
            tree = Path(tmp) / "tree"
            ws.export(tree)
            findings = review_tree(tree) + review_ci(tree, only=set(diff.files_changed))
            # bandit (a subprocess), the probe run and the Great Expectations import run while
            # the generated suite runs: each mostly waits on another process.
            probing = probe_run(plan)
            with ThreadPoolExecutor(max_workers=3, thread_name_prefix="mb-eval") as pool:
                warming = pool.submit(preload_results_validator)
                bandit_run = pool.submit(run_bandit, tree)
                private = env.settings.private_paths() + (
                    [Path(build.repo_path)] if build.repo_path else [])
                probe_result = pool.submit(run_tests, tree, timeout_s=timeout, prepare=probing,
                                           private=private)
                result = run_tests(tree, timeout_s=timeout, prepare=suite_run, private=private)
                bandit = bandit_run.result()
                probe_output = probe_result.result().output
                warming.exception()  # a failed import shows up again, as a finding, in validation
        tests = result.tests
        probes = probing.results(probe_output)
        counts = {outcome: 0 for outcome in TestOutcome}
        for test in tests:
            counts[test.outcome] += 1
        sandbox = SandboxInfo(
            isolation=result.isolation,
            uid=result.uid,
            timeout_s=env.settings.sandbox_timeout_s,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            warning=result.warning,
            network=result.network,
            namespaces=result.namespaces,
            hidden=result.hidden,
            writable=result.writable,
            caps=result.caps,
            limits_hit=result.limits_hit,
        )
        report = EvalReport(
            build_id=build.id,
            iteration=diff.iteration,
            passed=False,
            tests=tests,
            tests_passed=counts[TestOutcome.passed],
            tests_failed=counts[TestOutcome.failed],
            tests_errored=counts[TestOutcome.error],
            tests_skipped=counts[TestOutcome.skipped],
            seconds=round(result.seconds, 3),
            sandbox=sandbox,
            output_tail=result.output[-4000:],
            probes=probes,
        )
        verdict = run_agent(definition_for(AgentRole.qa), QAInput(report=report), ctx)
        checks = quality_checks(patch=diff.patch, files_changed=diff.files_changed, tests=tests,
                                probes=probes, plan=plan, bandit=bandit,
                                timed_out=result.timed_out, findings=findings)
        checks.append(validate_results_table(tests, max_seconds=env.settings.sandbox_timeout_s))
        traced = trace_requirements(plan, tests)
        covered = requirements_gate(traced)
        confidence, signals = score_confidence(tests=tests, checks=[*checks, covered], plan=plan,
                                               iteration=diff.iteration, sandbox=sandbox,
                                               requirements=traced)
        # An unmet requirement does not fail the build: it holds it at the approval gate with the
        # list (see gate_for), so a person decides whether what was built is enough.
        gate_failed = failed_errors(checks)
        passed = verdict.passed and not gate_failed
        failure_class = verdict.failure_class
        summary = verdict.summary if not verdict.passed else gate_failure_summary(checks)
        safety = sorted((c for c in gate_failed if c.name in SAFETY_GATES),
                        key=lambda c: SAFETY_GATES.index(c.name))
        if safety:
            # A safety finding outranks whatever the tests say: it names the build's failure.
            failure_class = FailureClass.safety_violation
            others = [c.name for c in gate_failed if c is not safety[0]]
            summary = (f"quality gate {safety[0].name} failed: {safety[0].summary}"
                       + (f" (also failed: {', '.join(others)})" if others else "")
                       + (f" (tests: {verdict.summary})" if not verdict.passed else ""))
        elif verdict.passed and gate_failed:
            failure_class = FailureClass.tests_failed
        if passed and not covered.passed:
            failure_class, summary = FailureClass.requirement_unmet, covered.summary
        return report.model_copy(update={
            "passed": passed,
            "failure_class": failure_class if not passed or not covered.passed else None,
            "failure_summary": summary if not passed or not covered.passed else "",
            "checks": [*checks, covered],
            "confidence": confidence,
            "risk_signals": signals + [f"finding:{f.flag.value}" for f in findings],
            "risk_findings": findings,
            "risk_score": effective_risk(plan.risk_score, findings, env.settings.risk_threshold),
            "requirements": traced,
        })


def decide_release(env: BuildEnvironment, build: BuildRun, plan: ScaffoldPlan,
                   report: EvalReport, healing: bool = False) -> ApprovalGate:
    """Record the gate and move the build on: approved (release now), awaiting approval, or failed.
    With `healing`, a failed evaluation leaves the build running: its driver asks the repair
    ladder what comes next."""
    risk = report.risk_score if report.risk_score is not None else plan.risk_score
    if risk != plan.risk_score:
        env.store.set_risk(build.id, risk)  # what the tree review found raises the plan's score
    gate = gate_for(build.id, risk, env.settings.risk_threshold, report)
    env.store.put_gate(gate)
    if healing and gate.decision == ApprovalDecision.rejected:
        return gate
    if gate.decision == ApprovalDecision.auto_approved:
        env.store.transition(build.id, BuildEvent.auto_approve, expected={BuildStatus.running})
    elif gate.decision == ApprovalDecision.pending:
        env.store.transition(build.id, BuildEvent.await_approval, expected={BuildStatus.running})
    else:
        fail_build(env, build.id, gate.reason, report_failure(report))
    return gate


def _zip_tree(tree: Path, dest: Path) -> None:
    # Fixed timestamps and order: the same tree always gives the same bytes.
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            rel = path.relative_to(tree).as_posix()
            info = zipfile.ZipInfo(rel, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def produce_artifact(env: BuildEnvironment, build: BuildRun, plan: ScaffoldPlan, diff: DiffArtifact,
                     report: EvalReport, ctx: AgentContext) -> BuildArtifact:
    with build_step(env, build.id, "artifact"):
        gate = env.store.get_gate(build.id)
        if gate is None or gate.decision not in (ApprovalDecision.auto_approved,
                                                 ApprovalDecision.approved):
            raise InvalidState(f"build {build.id} is not approved for release")
        review = run_agent(
            definition_for(AgentRole.reviewer),
            ReviewInput(
                plan=plan,
                diff=DiffStats(files_changed=diff.files_changed, added_lines=diff.added_lines,
                               removed_lines=diff.removed_lines, sha256=diff.sha256,
                               operations=declared_operations(diff.patch)),
                report=report,
                approval_threshold=env.settings.risk_threshold,
            ),
            ctx,
        )
        final_dir = env.artifact_dir(build.id)
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        # Everything is written into a scratch folder first and renamed at the end: an interrupted
        # release leaves no half-written artifact behind.
        staging = Path(tempfile.mkdtemp(prefix=f".{build.id}.", dir=final_dir.parent))
        try:
            ws = Workspace(env.workspace_path(build.id))
            tree = staging / "tree"
            ws.export(tree)
            zip_name = f"{plan.app_name}-{build.id}.zip"
            _zip_tree(tree, staging / zip_name)
            files = [
                {"path": p.relative_to(tree).as_posix(), "sha256": _sha256_file(p),
                 "bytes": p.stat().st_size}
                for p in sorted(tree.rglob("*")) if p.is_file()
            ]
            shutil.rmtree(tree)
            (staging / "PR_BODY.md").write_text(f"# {review.title}\n\n{review.pr_body}",
                                                encoding="utf-8")
            (staging / "changes.diff").write_text(diff.patch, encoding="utf-8")
            manifest = {
                "build_id": build.id,
                "builder_version": __version__,
                "app_name": plan.app_name,
                "title": plan.title,
                "spec_sha256": sha256_text(build.spec_text),
                "provider": build.provider,
                "base_build_id": build.base_build_id,
                "base_commit": diff.base_commit,
                "head_commit": diff.head_commit,
                "diff_sha256": diff.sha256,
                "zip": zip_name,
                "zip_sha256": _sha256_file(staging / zip_name),
                "risk": {"score": gate.risk_score,
                         "flags": list(dict.fromkeys([f.value for f in plan.risk_flags]
                                                     + [f.flag.value for f in report.risk_findings])),
                         "findings": [f.note for f in report.risk_findings]},
                "approval": json.loads(gate.model_dump_json()),
                "tests": {"passed": report.tests_passed, "failed": report.tests_failed,
                          "errors": report.tests_errored, "seconds": report.seconds,
                          "isolation": report.sandbox.isolation if report.sandbox else None},
                "recommendation": review.recommendation,
                "files": files,
            }
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                                   encoding="utf-8")
            if final_dir.exists():
                shutil.rmtree(final_dir)
            staging.rename(final_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        env.store.transition(build.id, BuildEvent.release,
                             expected={BuildStatus.releasing, BuildStatus.approved})
        return BuildArtifact(
            build_id=build.id,
            zip_path=str(final_dir / zip_name),
            zip_sha256=manifest["zip_sha256"],
            pr_body_path=str(final_dir / "PR_BODY.md"),
            manifest_path=str(final_dir / "manifest.json"),
            manifest=manifest,
            approval=gate,
        )


# --------------------------------------------------------------------------------------------
# The direct driver: the same steps without Dagster
# --------------------------------------------------------------------------------------------


@dataclass
class BuildOutcome:
    build: BuildRun
    spec: ScaffoldSpec
    plan: ScaffoldPlan
    diff: DiffArtifact
    report: EvalReport
    gate: ApprovalGate
    artifact: BuildArtifact | None


def run_build_direct(env: BuildEnvironment, build_id: str) -> BuildOutcome:
    """Spec to artifact in this process, writing the same asset files the Dagster assets write."""
    build = env.store.get_build(build_id)
    provider = env.provider_for(build)
    ctx = env.agent_context(build, provider)
    spec = produce_spec(env, build, ctx)
    env.assets.write("spec", build_id, spec)
    plan = produce_plan(env, build, spec, ctx)
    env.assets.write("plan", build_id, plan)
    diff = produce_diff(env, build, plan, ctx)
    env.assets.write("diff", build_id, diff)
    report = produce_eval_report(env, build, diff, ctx)
    env.assets.write("eval_report", build_id, report)
    gate = decide_release(env, build, plan, report)
    artifact = None
    if gate.decision == ApprovalDecision.auto_approved and env.store.transition(
        build_id, BuildEvent.start_release, expected={BuildStatus.approved}
    ):
        artifact = produce_artifact(env, build, plan, diff, report, ctx)
        env.assets.write("artifact", build_id, artifact)
    return BuildOutcome(build=env.store.get_build(build_id), spec=spec, plan=plan, diff=diff,
                        report=report, gate=gate, artifact=artifact)
