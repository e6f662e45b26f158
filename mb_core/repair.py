"""The repair rungs that change the build: Patch (the Auto-Fixer) and Re-plan.

Patch: the failing tests' output names the files to look at; the Auto-Fixer answers whole-file
replacements for those files only, checked here (no file outside the implicated set, no deletion,
no test removed or weakened) and then applied through the same diff safety as every diff. The new
`diff` value is the whole change from the build's base, so the release artifact stays one diff.

Re-plan: the plan again with the failure as context. It must differ from the plan that failed: the
features whose tests failed are dropped (or, when none can be named, every optional feature), and
each drop is written into the plan's decisions so the traceability shows it.
"""

from __future__ import annotations

import re

from mb_core import chaos
from mb_core.agents.base import AgentContext, AgentRole, run_agent
from mb_core.agents.io import FixInput
from mb_core.agents.registry import definition_for
from mb_core.diff_safety import Violation, diff_stats, rejection
from mb_core.failures import NothingToRepair
from mb_core.healing import read_base_commit
from mb_core.models import (
    BuildRun,
    DiffArtifact,
    EvalReport,
    FailureClass,
    GeneratedFile,
    GeneratedFiles,
    NounDecision,
    ScaffoldPlan,
    TestOutcome,
    sha256_text,
)
from mb_core.workspace import Workspace

# Files every route goes through: a broken route can be in the wiring as well as in its router.
_WIRING = ("app/main.py", "app/routers/__init__.py")
_TEST_FILE = re.compile(r"tests/test_(?:entity|feature_[a-z_]+?)_([a-z0-9_]+)\.py")
_FEATURE_TEST = re.compile(r"tests/test_feature_([a-z_]+)_([a-z0-9_]+)\.py")


def _failing(report: EvalReport) -> list[str]:
    return [t.nodeid for t in report.tests if t.outcome in (TestOutcome.failed, TestOutcome.error)]


def implicated_files(report: EvalReport, tree: dict[str, str], plan: ScaffoldPlan) -> list[str]:
    """The files a failing evaluation points at: paths its output names, and for each failing test
    module the router, model and schema of the entity it tests, plus the route wiring."""
    text = "\n".join([report.output_tail, report.failure_summary,
                      *(t.message for t in report.tests), *_failing(report)])
    found = {path for path in tree if path in text}
    entities = {e.name for e in plan.entities}
    for match in _TEST_FILE.finditer(text):
        entity = match.group(1)
        for name in entities:
            if entity == name or entity.endswith("_" + name):
                found |= {f"app/routers/{name}.py", f"app/models/{name}.py", f"app/schemas/{name}.py"}
    if found:
        found |= set(_WIRING)
    return sorted(p for p in found if p in tree)


def _strength(content: str) -> tuple[int, int]:
    return (len(re.findall(r"^\s*(?:async\s+)?def test_", content, re.MULTILINE)),
            len(re.findall(r"^\s*assert\b", content, re.MULTILINE)))


def patch_violations(fix: GeneratedFiles, implicated: list[str], tree: dict[str, str]) -> list[Violation]:
    """Why the Auto-Fixer's answer may not be applied (empty: it may)."""
    allowed = set(implicated)
    found = [Violation(path=p, rule="patch_deletes", message=f"{p}: a patch may not delete files")
             for p in fix.deleted]
    for item in fix.files:
        if item.path not in allowed:
            found.append(Violation(path=item.path, rule="patch_scope",
                                   message=f"{item.path}: not one of the files the failing tests implicate"))
        elif item.path.startswith("tests/") and item.path in tree:
            before, after = _strength(tree[item.path]), _strength(item.content)
            if after[0] < before[0] or after[1] < before[1]:
                found.append(Violation(
                    path=item.path, rule="patch_weakens_tests",
                    message=f"{item.path}: the patch weakens its tests (tests {before[0]} -> {after[0]}, "
                            f"asserts {before[1]} -> {after[1]})"))
    return found


def patched_diff(env, build: BuildRun, plan: ScaffoldPlan, report: EvalReport, ctx: AgentContext,
                 iteration: int) -> tuple[DiffArtifact, list[str]]:
    """The Auto-Fixer's patch over the build's workspace; the returned diff is base -> new head.
    Returns it with the Auto-Fixer's notes."""
    path = env.workspace_path(build.id)
    ws = Workspace(path)
    base = read_base_commit(path) or ws.head()
    tree = ws.files()
    implicated = implicated_files(report, tree, plan)
    if not implicated:
        raise NothingToRepair("the failing tests implicate no file of the build: nothing to patch")
    fix = run_agent(definition_for(AgentRole.auto_fixer),
                    FixInput(plan=plan, report=report,
                             files=[GeneratedFile(path=p, content=tree[p]) for p in implicated]), ctx)
    fault = chaos.inject("patch")  # the chaos seam: a faulty Auto-Fixer's patch
    if fault:
        fix = chaos.malicious_patch(fix, fault, implicated, tree)
    violations = patch_violations(fix, implicated, tree)
    if violations:
        raise rejection(violations)
    step = ws.render_diff(fix)
    if not step.strip():
        raise NothingToRepair("; ".join(fix.notes) or "the Auto-Fixer changed nothing")
    failing = ", ".join(_failing(report)[:3]) or report.failure_summary or "the evaluation"
    from mb_core.pipeline import ensure_not_cancelled

    ensure_not_cancelled(env, build.id)
    head = ws.apply_diff(step, f"Repair attempt {iteration}: {len(fix.files)} file(s)\n\n"
                               f"Auto-Fixer patch for {failing}.")
    whole = ws.diff_between(base, head)
    files, added, removed = diff_stats(whole)
    return DiffArtifact(build_id=build.id, iteration=iteration, base_commit=base, patch=whole,
                        sha256=sha256_text(whole), files_changed=files, added_lines=added,
                        removed_lines=removed, head_commit=head), fix.notes


def simplified_plan(plan: ScaffoldPlan, report: EvalReport | None, failure: str) -> ScaffoldPlan:
    """A plan that drops what failed, saying so in its decisions; `NothingToRepair` when nothing
    can be dropped."""
    text = "\n".join([*(_failing(report) if report else []), report.output_tail if report else ""])
    named = {(m.group(1), m.group(2)) for m in _FEATURE_TEST.finditer(text)}
    failed = [f for f in plan.features if (f.kind.value, f.entity) in named]
    why = f"its tests failed ({failure})"
    if not failed:
        failed, why = list(plan.features), f"the build failed ({failure}) and no feature could be singled out"
    if not failed:
        raise NothingToRepair("the plan has no optional feature left to drop: re-planning cannot simplify it",
                              report.failure_class if report and report.failure_class else FailureClass.tests_failed)
    dropped = {id(f) for f in failed}
    notes = [NounDecision(phrase=f"{f.kind.value} on {f.entity}", decision="dropped",
                          reason=f"re-plan: dropped because {why}") for f in failed]
    return plan.model_copy(update={
        "features": [f for f in plan.features if id(f) not in dropped],
        "decisions": [*plan.decisions, *notes],
        "risk_notes": [*plan.risk_notes,
                       f"re-planned: dropped {', '.join(n.phrase for n in notes)} because {why}"],
    })
