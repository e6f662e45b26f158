"""`mb`: build, inspect, approve and replay builds from the command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Self

import click

from mb_core.errors import InvalidSpec, InvalidState, MBError
from mb_core.models import BuildRun, BuildStatus, SpecMode
from mb_core.settings import Settings
from mb_core.submission import spec_text_from_bytes, spec_text_from_file
from mb_dagster.terminal import json_printable, printable, say, short_title

os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
# Preview/beta notices (partitioned asset checks) are for developers, not for every CLI run.
warnings.filterwarnings("ignore", message=r".*(preview|beta).*")


class StepPrinter(logging.Handler):
    """Prints each build step as it starts and as it ends, with its time (records from
    mb_core.pipeline). On a terminal a running step shows a spinner with its elapsed time."""

    def __init__(self) -> None:
        super().__init__()
        self.live = None
        if sys.stdout.isatty():
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.live = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                 TimeElapsedColumn(), console=Console(highlight=False),
                                 transient=True)
        self.tasks: dict[str, int] = {}
        self.accounted = 0.0  # seconds of the lines printed so far

    def __enter__(self) -> Self:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.stop()

    def _line(self, text: str) -> None:
        if self.live is not None:
            self.live.console.print(printable(text), markup=False)
        else:
            say(text)

    def step_started(self, step: str) -> None:
        if self.live is not None:
            self.tasks[step] = self.live.add_task(f"    {step:<12}", total=None)
        else:
            self._line(f"  ..  {step:<12} started")

    def step_ended(self, step: str, mark: str, seconds: float, detail: str = "") -> None:
        task = self.tasks.pop(step, None)
        if task is not None and self.live is not None:
            self.live.remove_task(task)
        self.accounted += seconds
        self._line(f"  {mark:<3} {step:<12} {seconds:6.2f} s" + (f"  ({detail})" if detail else ""))

    def emit(self, record: logging.LogRecord) -> None:
        step = getattr(record, "mb_step", None)
        if step is None:
            return
        if record.getMessage() == "started":
            self.step_started(step)
            return
        if record.getMessage() in ("repair", "chaos"):
            self._line(f"  {record.getMessage():<3} {getattr(record, 'mb_detail', '')}")
            return
        mark = "ok" if record.getMessage() == "succeeded" else "FAILED"
        # A failure's detail is the build's error, printed once at the end.
        self.step_ended(step, mark, getattr(record, "mb_seconds", 0.0),
                        getattr(record, "mb_detail", "") if mark == "ok" else "")


def _environment():
    from mb_core.pipeline import BuildEnvironment

    return BuildEnvironment.open(Settings.from_env())


def _instance(env):
    from mb_dagster.instance import open_instance

    return open_instance(env.settings)


def _fail(message: str, code: int = 1) -> None:
    say(f"error: {message}", err=True, one_line=True)
    sys.exit(code)


class MBGroup(click.Group):
    """Turns every MBError into a one-line message and a non-zero exit; `mb --help` lists each
    command with its whole first sentence (wrapped, never cut with "...")."""

    def format_commands(self, ctx, formatter) -> None:
        rows = [(name, cmd.get_short_help_str(limit=1000)) for name, cmd in
                ((n, self.get_command(ctx, n)) for n in self.list_commands(ctx))
                if cmd is not None and not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MBError as exc:
            _fail(str(exc), exc.exit_code)


@click.group(cls=MBGroup, context_settings={"max_content_width": 200})
@click.version_option(package_name="meta-builder")
def main() -> None:
    """Meta-Builder: a plain-language specification in, a generated, tested scaffold out."""
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _read_spec(text: tuple[str, ...], file: str | None, settings: Settings) -> str:
    limits = {"max_bytes": settings.max_spec_bytes, "max_words": settings.max_spec_words}
    if file and text:
        raise InvalidSpec("give the spec as text or with -f FILE, not both")
    if file:
        if file == "-":
            return spec_text_from_bytes(sys.stdin.buffer.read(),
                                        source="standard input", **limits)
        return spec_text_from_file(Path(file), **limits)
    if not text:
        raise InvalidSpec("no spec given: mb build \"Build a CRM system with contacts and deals\"")
    return spec_text_from_bytes(" ".join(text).encode("utf-8", "surrogateescape"), **limits)


def _check_target_repo(repo: str | None) -> str | None:
    if repo is None:
        return None
    path = Path(repo).expanduser().resolve()
    if not (path / ".git").exists():
        raise InvalidSpec(f"--repo {repo} is not a git repository")
    return str(path)


@main.command()
@click.argument("text", nargs=-1)
@click.option("-f", "--file", "file", help="Read the spec from FILE ('-' for standard input).")
@click.option("--guided", is_flag=True, help="The spec is structured YAML (guided mode).")
@click.option("--base", "base", help="Extend the output of this earlier build (incremental build).")
@click.option("--repo", help="Target git repository to build over (it is cloned, never modified).")
@click.option("--provider", type=click.Choice(["offline", "openai", "replay"]), default=None,
              help="LLM provider for this build (default: MB_PROVIDER or offline).")
@click.option("--tenant", default=None, help="Tenant the build is accounted to.")
@click.option("--detach", is_flag=True,
              help="Only submit: the Dagster daemon's sensor (make ui) runs the build.")
@click.option("--sla", type=click.Choice(["fast", "normal", "thorough"]), default=None,
              help="Service tier: queue, priority, attempts and model (default: MB_SLA or normal).")
def build(text, file, guided, base, repo, provider, tenant, detach, sla) -> None:
    """Build an application from a specification."""
    settings = Settings.from_env()
    from mb_dagster.deploy.preflight import check_services

    check_services(settings)  # a wrong PostgreSQL or Redis URL: one line, before anything starts
    spec_text = _read_spec(text, file, settings)
    repo_path = _check_target_repo(repo)
    provider = provider or settings.provider
    if provider == "replay":
        raise InvalidSpec("a new build cannot be replayed: use `mb replay BUILD` for a past build")

    from mb_core.chaos import ChaosSettings
    from mb_core.platform.build_flags import platform_defaults
    from mb_core.slo import run_budget_from_env

    ChaosSettings.from_env()  # bad chaos, budget or flag settings fail here, before any row
    run_budget_from_env("check")
    platform_defaults()
    env = _environment()
    if base:
        base_build = env.store.get_build(base)  # UnknownBuild before anything is created
        if base_build.status != BuildStatus.released:
            raise InvalidState(f"base build {base} is {base_build.status.value}; only a released "
                               "build can be extended")
    if provider == "openai":
        from mb_core.providers.factory import provider_from_settings

        provider_from_settings("openai", os.environ)  # a missing key fails here, before any row

    from mb_core.scheduling.admission import admit_tenant
    from mb_core.store import new_build_id

    admit_tenant(env.store, tenant or settings.tenant, provider, os.environ)  # before any row
    build_id = new_build_id()
    run = BuildRun(
        id=build_id,
        tenant=tenant or settings.tenant,
        spec_text=spec_text,
        mode=SpecMode.guided if guided else SpecMode.freeform,
        status=BuildStatus.submitted if detach else BuildStatus.running,
        provider=provider,
        base_build_id=base,
        repo_path=repo_path,
        sla=sla or settings.sla,
    )
    env.store.create_build(run)
    from mb_core.store.platform import PlatformStore

    PlatformStore(env.store).freeze_build_flags(run)  # the flags this build obeys, wherever it runs
    if detach:
        say(f"submitted {build_id}: the submissions sensor starts it (make ui); "
                   f"`mb status {build_id}` follows it")
        return

    from mb_dagster import driver

    say(f"build {build_id} ({provider}): {short_title(spec_text)}")
    handler = StepPrinter()
    steps_log = logging.getLogger("mb.steps")
    steps_log.addHandler(handler)
    steps_log.setLevel(logging.INFO)
    steps_log.propagate = False
    started = time.perf_counter()
    try:
        with handler:
            # Opening the instance and loading the definitions is time the user waits too.
            handler.step_started("dagster")
            instance = _instance(env)
            driver.load_definitions()
            _note_lost_builds(env, instance, build_id)
            handler.step_ended("dagster", "ok", time.perf_counter() - started)
            result = driver.run_build(env, instance, build_id)
            rest = time.perf_counter() - started - handler.accounted
            # What no step measures: Dagster starting and ending each run, loading the asset
            # values between steps and writing the event log.
            handler.step_ended("dagster runs", "ok", max(0.0, rest))
    finally:
        steps_log.removeHandler(handler)
    _print_outcome(env, result.build, result.artifact, time.perf_counter() - started)


def _note_lost_builds(env, instance, skip: str) -> None:
    """Builds an earlier process left in flight when it was killed: say so, and what heals them."""
    from mb_dagster.healing.sensors import lost_builds

    for lost, reason in lost_builds(env, instance):
        if lost.id != skip:
            say(f"  note: build {lost.id} ({lost.status.value}): {reason}; "
                "`mb reconcile` (or the daemon's reconciler) retries or rolls it back")


def _print_outcome(env, build: BuildRun, artifact, seconds: float | None = None) -> None:
    from mb_core.models import EvalReport

    report = env.assets.read("eval_report", build.id, EvalReport)
    if report is not None:
        isolation = report.sandbox.isolation if report.sandbox else "?"
        say(f"tests: {report.tests_passed} passed, {report.tests_failed} failed, "
                   f"{report.tests_errored} errors in the sandbox ({isolation})")
    gate = env.store.get_gate(build.id)
    if gate is not None:
        why = f" ({gate.reason})" if gate.reason else ""
        by = f" by {gate.decided_by}" if gate.decided_by and gate.decided_by != "gate" else ""
        say(f"risk {gate.risk_score}/100: {gate.decision.value}{by}{why}")
    if artifact is not None:
        say(f"artifact:  {artifact.zip_path}")
        say(f"PR body:   {artifact.pr_body_path}")
        say(f"manifest:  {artifact.manifest_path}")
    elif build.status == BuildStatus.awaiting_approval:
        say(f"waiting for approval: mb approve {build.id}  (or: mb reject {build.id})")
    if seconds is not None:
        say(f"{build.status.value} in {seconds:.1f} s")


def _resolve(env, given: str | None) -> str:
    """A build id from what the user typed: the whole id, a unique prefix of it or of its random
    tail, or nothing for the latest build."""
    if given is None:
        latest = env.store.list_builds(limit=1)
        if not latest:
            raise InvalidState("no builds yet: mb build \"Build a CRM system with contacts and deals\"")
        return latest[0].id
    matches = env.store.find_build_ids(given.strip(), limit=6)
    if given.strip() in matches:
        return given.strip()
    if len(matches) == 1:
        return matches[0]
    if not matches:
        env.store.get_build(given)  # the store's own one-line "unknown build"
    shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
    raise InvalidSpec(f"build id prefix {given!r} is ambiguous: {shown}")


@main.command()
@click.argument("build_id", required=False)
def status(build_id: str | None) -> None:
    """Show a build's status, steps and gate (the latest build without BUILD_ID; a unique prefix
    of an id is enough)."""
    env = _environment()
    build_id = _resolve(env, build_id)
    build = env.store.get_build(build_id)
    say(f"build {build.id}: {build.status.value}  (provider {build.provider}, "
               f"tenant {build.tenant}, created {build.created_at:%Y-%m-%d %H:%M:%S})")
    if build.error:
        say(f"error: {build.error}")
    from mb_core.reconcile import IN_FLIGHT

    if build.status in IN_FLIGHT:
        from mb_core.reconcile import reconcile_verdict
        from mb_dagster.healing.sensors import reconcile_input

        verdict = reconcile_verdict(reconcile_input(env, _instance(env), build))
        hint = "; `mb reconcile` (or the daemon's reconciler) retries or rolls it back" \
            if verdict.kind == "lost" else ""
        say(f"worker: {verdict.reason}{hint}")
    _say_variant(env, build_id)
    _print_flags(env, build_id)
    for step in env.store.list_steps(build_id):
        seconds = f"{step.seconds:6.2f} s" if step.seconds is not None else "   …    "
        detail = f"  {step.detail}" if step.detail else ""
        fclass = f" [{step.failure_class.value}]" if step.failure_class else ""
        say(f"  #{step.attempt} {step.status.value:<9} {step.name:<12} {seconds}{fclass}{detail}")
    attempts = env.store.list_attempts(build_id)
    if attempts:
        say("repair timeline:")
        for a in attempts:
            took = f"{a.seconds:6.2f} s" if a.seconds is not None else "   …    "
            fclass = f" [{a.failure_class.value}]" if a.failure_class else ""
            say(f"  #{a.attempt} {a.phase.value:<8} {a.outcome.value:<9} {took}  "
                f"{a.tokens} tokens ${a.cost_usd:.4f}{fclass}  {a.reason}")
    gate = env.store.get_gate(build_id)
    if gate:
        by = f" by {gate.decided_by}" if gate.decided_by else ""
        when = f" at {gate.decided_at:%Y-%m-%d %H:%M:%S}" if gate.decided_at else ""
        why = f": {gate.reason}" if gate.reason and gate.decision.value in ("approved", "rejected") else ""
        say(f"gate: {gate.decision.value}{by}{when}{why}; risk {gate.risk_score} "
                   f"(threshold {gate.threshold})")
    artifact_dir = env.artifact_dir(build_id)
    if artifact_dir.exists():
        say(f"artifact: {artifact_dir}")


@main.command()
def reconcile() -> None:
    """Retry or roll back the builds whose worker is gone (what the daemon's reconciler does)."""
    from mb_dagster import driver

    env = _environment()
    healed = driver.reconcile(env, _instance(env))
    if not healed:
        say("every build in flight has a live worker")
    for build_id, reason, build in healed:
        say(f"{build_id}: {reason} -> {build.status.value}"
            + (f" ({build.error})" if build.status.value in ("rolled_back", "failed") and build.error else ""))


def _say_variant(env, build_id: str) -> None:
    from mb_core.store.canary import CanaryStore

    arm = CanaryStore(env.store).variant_of(build_id)
    if arm is not None:
        canary = f", canary {arm.canary_percent:g} %" if arm.canary_percent is not None else ", no canary set"
        say(f"variant: {arm.variant.value}{canary}")


def _print_flags(env, build_id: str) -> None:
    from mb_core.store.platform import PlatformStore

    kept = PlatformStore(env.store).build_flags(build_id)
    if kept is None:
        say("flags: not resolved yet (they are when the build starts)")
        return
    say("flags: " + ", ".join(f"{key}={json.dumps(value)} ({source})" for key, value, source in kept.summary()))


@main.command(name="list")
@click.option("--limit", default=20, show_default=True)
@click.option("--status", "status_", type=click.Choice([s.value for s in BuildStatus]), default=None)
@click.option("--no-golden", is_flag=True, help="Leave out the builds of the golden-task suite.")
def list_builds(limit: int, status_: str | None, no_golden: bool) -> None:
    """List recent builds, newest first (golden-task builds marked with *)."""
    from mb_dagster.golden import GOLDEN_TENANT

    env = _environment()
    builds = env.store.list_builds(limit=limit, status=BuildStatus(status_) if status_ else None)
    if no_golden:
        builds = [b for b in builds if b.tenant != GOLDEN_TENANT]
    if not builds:
        say("no builds yet: mb build \"Build a CRM system with contacts and deals\"")
        return
    say(f"  {'build':<26} {'created (UTC)':<17} {'status':<18} {'risk':>4}  title")
    for b in builds:
        mark = "*" if b.tenant == GOLDEN_TENANT else " "
        risk = "-" if b.risk_score is None else str(b.risk_score)
        # `say` shows a control character of the spec escaped, so the title keeps them.
        title = " ".join(next((ln for ln in b.spec_text.splitlines() if ln.strip()), "").split())
        title = title if len(title) <= 60 else title[:59].rstrip() + "…"
        say(f"{mark} {b.id:<26} {b.created_at:%Y-%m-%d %H:%M}  {b.status.value:<18} {risk:>4}  {title}")
    if any(b.tenant == GOLDEN_TENANT for b in builds):
        say("* a golden-task build (mb list --no-golden leaves them out)")


SHOWABLE = {"spec": "ScaffoldSpec", "plan": "ScaffoldPlan", "diff": "DiffArtifact",
            "report": "EvalReport", "artifact": "BuildArtifact", "pr": None}


@main.command()
@click.argument("build_id")
@click.argument("what", type=click.Choice(list(SHOWABLE)))
@click.option("--json", "as_json", is_flag=True, help="The raw value as JSON (spec, plan, report).")
def show(build_id: str, what: str, as_json: bool) -> None:
    """Print a build's spec, plan, diff, eval report, artifact record or PR body."""
    from mb_core import models
    from mb_dagster.show import RENDERERS

    env = _environment()
    build_id = _resolve(env, build_id)
    if what == "pr":
        path = env.artifact_dir(build_id) / "PR_BODY.md"
        if not path.exists():
            raise InvalidState(f"build {build_id} has no released artifact yet")
        say(path.read_text(encoding="utf-8"), nl=False, raw_when_piped=True)
        return
    asset = "eval_report" if what == "report" else what
    value = env.assets.read(asset, build_id, getattr(models, SHOWABLE[what]))
    if value is None:
        raise InvalidState(f"build {build_id} has no {what} (yet)")
    if what == "diff":
        say(value.patch, nl=False, raw_when_piped=True)
    elif what in RENDERERS and not as_json:
        say(RENDERERS[what](value), nl=False)
    else:
        click.echo(json_printable(value.model_dump_json(indent=2)))


@main.command()
@click.argument("build_id")
@click.option("--by", default=lambda: os.environ.get("USER", "reviewer"), show_default="$USER")
@click.option("--reason", default="")
@click.option("--no-release", is_flag=True, help="Record the approval only; the sensor releases.")
def approve(build_id: str, by: str, reason: str, no_release: bool) -> None:
    """Approve a build waiting at the gate, and release it."""
    from mb_dagster import driver

    env = _environment()
    build_id = _resolve(env, build_id)
    instance = None if no_release else _instance(env)
    build, artifact = driver.approve(env, instance, build_id, by, reason, release_now=not no_release)
    say(f"approved {build_id} by {by}")
    _print_outcome(env, build, artifact)


@main.command()
@click.argument("build_id")
@click.option("--by", default=lambda: os.environ.get("USER", "reviewer"), show_default="$USER")
@click.option("--reason", default="")
def reject(build_id: str, by: str, reason: str) -> None:
    """Reject a build waiting at the gate: it is never released."""
    from mb_dagster import driver

    env = _environment()
    build = driver.reject(env, _resolve(env, build_id), by, reason)
    say(f"rejected {build.id} by {by}")


@main.command()
@click.argument("build_id")
def cancel(build_id: str) -> None:
    """Cancel a build that has not finished; its workspace goes back to where it started."""
    from mb_dagster import driver

    env = _environment()
    _, stopped = driver.cancel(env, build_id, _instance(env))
    say(f"cancelled {build_id}" + (f" (stopped {len(stopped)} run(s))" if stopped else ""))


@main.command()
@click.option("--port", default=3000, show_default=True)
def ui(port: int) -> None:
    """Start the Dagster UI and daemon (dagster dev) on this build home."""
    env = _environment()
    from mb_dagster.instance import REPO_ROOT, open_instance

    open_instance(env.settings)  # its storage is made (under the lock) before dagster dev starts
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
           "-h", "127.0.0.1", "-p", str(port)]
    say(f"Dagster UI on http://127.0.0.1:{port}  (DAGSTER_HOME={os.environ['DAGSTER_HOME']})")

    def reset_signals() -> None:
        # A shell may start us with SIGINT/SIGTERM ignored; dagster dev must be stoppable.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    # Started from DAGSTER_HOME: from the repository root dagster dev warns that the dagster.yaml
    # there (the template) is not the instance's. Its notice that `dagster dev` is superseded by
    # `dg dev` (a tool this project does not install) is silenced.
    env = {**os.environ, "PYTHONWARNINGS": "ignore:Function `dev_command` is superseded"}
    # the CLI runs no threads yet, so preexec_fn cannot deadlock here
    proc = subprocess.Popen(cmd, preexec_fn=reset_signals,  # noqa: PLW1509
                            cwd=os.environ["DAGSTER_HOME"], env=env)
    try:
        sys.exit(proc.wait())
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        sys.exit(proc.wait())


@main.command()
def doctor() -> None:
    """Check the sandbox, the databases and the provider."""
    settings = Settings.from_env()
    problems = 0

    def line(ok: bool, what: str, detail: str) -> None:
        nonlocal problems
        problems += 0 if ok else 1
        say(f"{'ok ' if ok else 'BAD'} {what:<10} {detail}")

    from mb_core.sandbox import sandbox_status

    sb = sandbox_status(private=settings.private_paths())
    line(bool(sb.get("works")), "sandbox", ", ".join(f"{k}={v}" for k, v in sb.items()))
    try:
        from mb_core.pipeline import BuildEnvironment

        env = BuildEnvironment.open(settings)
        env.store.list_builds(limit=1)
        line(True, "store", _redact_url(settings.database_url))
    except Exception as exc:  # noqa: BLE001 - doctor reports, it does not stop at the first problem
        line(False, "store", f"{_redact_url(settings.database_url)}: {exc}")
    try:
        from mb_dagster.instance import open_instance

        instance = open_instance(settings)
        line(True, "dagster", f"DAGSTER_HOME={os.environ['DAGSTER_HOME']} "
                              f"({type(instance.run_storage).__name__})")
    except Exception as exc:  # noqa: BLE001 - doctor reports every problem, as above
        line(False, "dagster", str(exc))
    from mb_dagster.deploy.preflight import service_lines

    for ok, what, detail in service_lines(settings):
        line(ok, what, detail)
    try:
        if settings.provider == "offline":
            line(True, "provider", "offline (deterministic rules, no network)")
        else:
            from mb_core.providers.factory import provider_from_settings

            provider = provider_from_settings(settings.provider, os.environ)
            line(True, "provider", f"{provider.name}")
    except MBError as exc:
        line(False, "provider", str(exc))
    sys.exit(1 if problems else 0)


@main.command(name="check-diff")
@click.argument("diff_file", type=click.Path(dir_okay=False))
@click.option("--repo", help="Also check that it applies to this git repository (left untouched).")
def check_diff_command(diff_file: str, repo: str | None) -> None:
    """Check a unified diff with the very checks a build's diff passes before it is applied."""
    from mb_core.diff_safety import diff_stats, rejection, too_large
    from mb_core.errors import DiffRejected
    from mb_core.workspace import check_applies, vet_patch

    limits = Settings.from_env().diff_limits
    path = Path(diff_file)
    if not path.is_file():
        raise DiffRejected(f"diff file {diff_file} does not exist")
    size = path.stat().st_size
    if size > limits.max_bytes:  # refused before a byte of it is read
        raise rejection([too_large(size, limits)])
    try:
        patch = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise DiffRejected(f"diff file {diff_file} is not UTF-8 text") from None
    violations = vet_patch(patch, limits=limits)
    if violations:
        raise rejection(violations)
    files, added, removed = diff_stats(patch)
    if repo:
        check_applies(Path(_check_target_repo(repo)), patch)
    say(f"ok: {len(files)} files, +{added} -{removed} lines; size, write scope, denylist, "
               "modes and secrets scan passed" + (f"; applies to {repo}" if repo else ""))


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


from mb_dagster.golden.cli import golden

main.add_command(golden)
from mb_dagster.replay.cli import replay

main.add_command(replay)
from mb_dagster.healing.cli import breakers, chaos

main.add_command(breakers)
main.add_command(chaos)
from mb_dagster.canary.cli import canary

main.add_command(canary)
from mb_dagster.platform_cli import flags, keys, serve, users

for _command in (serve, users, keys, flags):
    main.add_command(_command)


if __name__ == "__main__":
    main()
