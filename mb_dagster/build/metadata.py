"""What each materialization shows in the Dagster UI; `run_panel_metadata` is the run panel of a
build: the one eval_report materialization that says at a glance how the build went."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

from mb_core.models import (
    ApprovalGate,
    BuildRun,
    DiffArtifact,
    EvalReport,
    RepairAttempt,
    RunBudget,
    ScaffoldPlan,
    ScaffoldSpec,
)
from mb_dagster.terminal import first_line, short_title

DIFF_PREVIEW_LINES = 120
TITLE_TAG = "mb/title"  # every run of a build carries it, so the UI's run lists say which is which
MESSAGE_CHARS = 300  # of a failing test's message in the tests table


def run_tags(build: BuildRun, job: str = "build_job") -> dict[str, str]:
    """The tags every run of a build carries, from whichever driver (the CLI's, the sensors'): its
    id, its title shortened, and its queue, priority and tier (mb_core.scheduling.run_tags_for)."""
    from mb_core.scheduling import run_tags_for

    return {"mb/build": build.id, TITLE_TAG: short_title(build.spec_text) or build.id,
            **run_tags_for(build, job)}


def spec_metadata(spec: ScaffoldSpec) -> dict:
    decisions = "\n".join(f"| {d.phrase} | {d.decision} | {d.reason} |" for d in spec.decisions)
    return {
        "title": spec.title,
        "mode": spec.mode.value,
        "entities": MetadataValue.json([e.name for e in spec.entities]),
        "entity_count": len(spec.entities),
        "features": MetadataValue.json([f"{f.kind.value}:{f.entity}" for f in spec.features]),
        "decisions": MetadataValue.md(
            "| phrase | decision | why |\n|---|---|---|\n" + decisions if decisions else "none"
        ),
    }


def plan_metadata(plan: ScaffoldPlan) -> dict:
    rows = [
        TableRecord({
            "entity": e.name,
            "fields": ", ".join(f"{f.name}:{f.type.value}" for f in e.fields),
            "pii": ", ".join(f.name for f in e.fields if f.pii),
            "endpoints": sum(1 for ep in plan.endpoints if ep.entity == e.name),
        })
        for e in plan.entities
    ]
    return {
        "risk_score": plan.risk_score,
        "risk_flags": MetadataValue.json([f.value for f in plan.risk_flags]),
        "risk_notes": MetadataValue.md("\n".join(f"- {n}" for n in plan.risk_notes) or "none"),
        "plan": MetadataValue.table(
            rows,
            schema=TableSchema(columns=[
                TableColumn("entity", "string"), TableColumn("fields", "string"),
                TableColumn("pii", "string"), TableColumn("endpoints", "int"),
            ]),
        ),
        "endpoint_count": len(plan.endpoints),
        "roles": MetadataValue.json({r.name: {k: [a.value for a in v] for k, v in r.permissions.items()}
                                     for r in plan.roles}),
        "security_controls": MetadataValue.json([c.name for c in plan.security_controls]),
        "migrations": MetadataValue.json([m.model_dump() for m in plan.migrations]),
    }


def diff_metadata(diff: DiffArtifact) -> dict:
    lines = diff.patch.splitlines()
    preview = "\n".join(lines[:DIFF_PREVIEW_LINES])
    more = f"\n\n… {len(lines) - DIFF_PREVIEW_LINES} more lines" if len(lines) > DIFF_PREVIEW_LINES else ""
    return {
        "iteration": diff.iteration,
        "files_changed": len(diff.files_changed),
        "added_lines": diff.added_lines,
        "removed_lines": diff.removed_lines,
        "sha256": diff.sha256,
        "base_commit": diff.base_commit,
        "head_commit": diff.head_commit or "",
        "files": MetadataValue.json(diff.files_changed),
        "diff_preview": MetadataValue.md(f"```diff\n{preview}\n```{more}"),
    }


def eval_metadata(report: EvalReport, gate_decision: str, gate_reason: str) -> dict:
    failing = [t for t in report.tests if t.outcome.value in ("failed", "error")]
    return {
        "passed": report.passed,
        "tests_passed": report.tests_passed,
        "tests_failed": report.tests_failed,
        "tests_errored": report.tests_errored,
        "seconds": report.seconds,
        "isolation": report.sandbox.isolation if report.sandbox else "unknown",
        "failure_class": report.failure_class.value if report.failure_class else "",
        "failure_summary": report.failure_summary,
        "failing_tests": MetadataValue.md(
            "\n".join(f"- `{t.nodeid}`: {t.message[:200]}" for t in failing) or "none"
        ),
        "approval": gate_decision,
        "approval_reason": gate_reason,
        # What the review of the generated tree found, and the risk the gate judged with it.
        **({"risk_score": report.risk_score} if report.risk_score is not None else {}),
        "risk_findings": MetadataValue.md(
            "\n".join(f"- {'refused' if f.blocking else 'held'}: {f.note}" for f in report.risk_findings)
            or "none"
        ),
        "requirements_met": sum(r.status.value == "met" for r in report.requirements),
        "requirements_total": len(report.requirements),
        "requirements": requirements_table(report),
        "tests": tests_table(report),
    }


def requirements_table(report: EvalReport) -> MetadataValue:
    """The traceability table: each requirement, met or not, and why."""
    rows = [
        TableRecord({
            "requirement": r.summary or r.requirement, "kind": r.kind, "status": r.status.value,
            "reason": r.reason, "quote": r.quote, "tests": len(r.tests),
        })
        for r in report.requirements
    ]
    return MetadataValue.table(rows, schema=TableSchema(columns=[
        TableColumn("requirement", "string"), TableColumn("kind", "string"),
        TableColumn("status", "string", description="met, failed, untested or not_implemented"),
        TableColumn("reason", "string"), TableColumn("quote", "string", description="what the spec says"),
        TableColumn("tests", "int", description="generated tests that exercise it"),
    ]))


def tests_table(report: EvalReport) -> MetadataValue:
    """One row per generated test the sandbox ran: outcome, time, and the message of a failure."""
    rows = [
        TableRecord({"test": t.nodeid, "outcome": t.outcome.value, "seconds": round(t.seconds, 3),
                     "message": t.message[:MESSAGE_CHARS]})
        for t in report.tests
    ]
    return MetadataValue.table(rows, schema=TableSchema(columns=[
        TableColumn("test", "string"), TableColumn("outcome", "string"),
        TableColumn("seconds", "float"), TableColumn("message", "string"),
    ]))


def _limit(value) -> str:
    return "unlimited" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"


def budget_rows(budget: RunBudget | None, usage: dict, now_attempt_seconds: float | None = None) -> list[dict]:
    """Used, limit and left per resource: tokens and cost over all the build's attempts, running
    seconds and attempts (the finished ones and, when `now_attempt_seconds` is given, the one under
    way, which the budget counts only when it ends)."""
    total = usage.get("total", {})
    tokens, cost = int(total.get("total_tokens", 0)), float(total.get("cost_usd", 0.0))
    if budget is None:
        return [{"resource": "tokens", "used": f"{tokens:,}", "limit": "unlimited", "left": "-"},
                {"resource": "cost (USD)", "used": f"{cost:.4f}", "limit": "unlimited", "left": "-"}]
    seconds = budget.running_seconds + (now_attempt_seconds or 0.0)
    attempts = budget.attempts_used + (0 if now_attempt_seconds is None else 1)

    def left(limit, used):
        return "-" if limit is None else _limit(max(0, limit - used) if isinstance(limit, int)
                                                else round(max(0.0, limit - used), 4))

    return [
        {"resource": "tokens", "used": f"{tokens:,}", "limit": _limit(budget.max_tokens),
         "left": left(budget.max_tokens, tokens)},
        {"resource": "cost (USD)", "used": f"{cost:.4f}", "limit": _limit(budget.max_cost_usd),
         "left": left(budget.max_cost_usd, cost)},
        {"resource": "time (s)", "used": f"{seconds:.1f}", "limit": _limit(budget.max_seconds),
         "left": left(budget.max_seconds, seconds)},
        {"resource": "attempts", "used": str(attempts), "limit": _limit(budget.max_attempts),
         "left": left(budget.max_attempts, attempts)},
    ]


def _running_seconds(attempts: list[RepairAttempt]) -> float | None:
    running = [a for a in attempts if a.finished_at is None]
    if not running:
        return None
    started = running[-1].started_at
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - started).total_seconds())


def run_panel_metadata(build: BuildRun, spec: ScaffoldSpec | None, plan: ScaffoldPlan,
                       report: EvalReport, gate: ApprovalGate | None, budget: RunBudget | None,
                       usage: dict, attempts: list[RepairAttempt]) -> dict:
    """The run panel: title and spec line, risk, confidence, requirements, budget, tests and the
    repair timeline, in the order a reader wants them (the UI keeps the order)."""
    title = (spec.title if spec else "") or short_title(build.spec_text)
    risk = report.risk_score if report.risk_score is not None else plan.risk_score
    flags = list(dict.fromkeys([f.value for f in plan.risk_flags]
                               + [f.flag.value for f in report.risk_findings]))
    conf = report.confidence
    met = sum(r.status.value == "met" for r in report.requirements)
    unmet = [r for r in report.requirements if r.status.value != "met"]
    gate_text = "not decided"
    if gate is not None:
        by = f" by {gate.decided_by}" if gate.decided_by else ""
        gate_text = f"{gate.decision.value}{by} (risk {gate.risk_score}, threshold {gate.threshold})"
    rows = budget_rows(budget, usage, _running_seconds(attempts))
    budget_md = "\n".join(f"| {r['resource']} | {r['used']} | {r['limit']} | {r['left']} |" for r in rows)
    summary = "\n".join([
        f"### {title}",
        f"> {first_line(build.spec_text)[:300]}",
        "",
        "| | |", "|---|---|",
        (f"| result | {'passed' if report.passed else 'FAILED'}: {report.tests_passed} passed, "
         f"{report.tests_failed} failed, {report.tests_errored} errors |"),
        f"| risk | {risk}/100{': ' + ', '.join(flags) if flags else ''} |",
        f"| confidence | {f'{conf.score}/100 ({conf.level.value})' if conf else 'not scored'} |",
        f"| requirements | {met} of {len(report.requirements)} met |",
        f"| gate | {gate_text} |",
        f"| attempts | {len(attempts) or 1} |",
    ])
    panel = {
        "build": MetadataValue.md(summary),
        "title": title,
        "spec_first_line": first_line(build.spec_text),
        "risk_score": risk,
        "risk_flags": MetadataValue.json(flags),
        "confidence_score": conf.score if conf else -1,
        "confidence_level": conf.level.value if conf else "not scored",
        "confidence_signals": MetadataValue.md(
            "\n".join(f"- {s}" for s in report.risk_signals) or "none"),
        "confidence_metrics": MetadataValue.json(conf.metrics if conf else {}),
        "requirements": requirements_table(report),
        "requirements_not_met": MetadataValue.md(
            "\n".join(f"- {r.summary or r.requirement} ({r.status.value}): {r.reason}" for r in unmet)
            or "all met"),
        "budget": MetadataValue.md("| | used | limit | left |\n|---|---|---|---|\n" + budget_md),
        "budget_table": MetadataValue.table(
            [TableRecord(r) for r in rows],
            schema=TableSchema(columns=[TableColumn(c, "string")
                                        for c in ("resource", "used", "limit", "left")])),
        "tests": tests_table(report),
    }
    return panel


def usage_metadata(summary: dict) -> dict:
    """Tokens and cost per role so far, the budget and what is left (a Meter summary)."""
    return {"usage": MetadataValue.json(summary)}


def model_metadata(store, build_id: str) -> dict:
    """The model each attempt was given and why (its tier, the budget left, the observed stats)."""
    from mb_core.store.model_choices import list_model_choices

    choices = list_model_choices(store, build_id)
    if not choices:
        return {}
    rows = "\n".join(f"| {c.attempt} | {c.model} | ${c.estimated_cost_usd:.4f} | "
                     f"{'' if c.budget_left_usd is None else f'${c.budget_left_usd:.4f}'} | "
                     f"{c.reason.replace('|', '/')} |" for c in choices)
    return {"model": choices[-1].model,
            "model_choice": MetadataValue.md("| attempt | model | estimated | budget left | why |\n"
                                             "|---|---|---|---|---|\n" + rows)}


def replay_metadata(build_id: str, original: DiffArtifact | None, replayed: DiffArtifact) -> dict:
    """Which build a replay re-ran and whether its diff came out different."""
    return {
        "replay_of": build_id,
        "original_sha256": original.sha256 if original else "",
        "drift": original is None or original.sha256 != replayed.sha256,
    }


def repair_metadata(attempts, phase: str, iteration: int) -> dict:
    """The repair timeline so far: one row per attempt (phase, outcome, class, time, cost, why)."""
    rows = "\n".join(
        f"| {a.attempt} | {a.phase.value} | {a.outcome.value} | "
        f"{a.failure_class.value if a.failure_class else ''} | "
        f"{'' if a.seconds is None else f'{a.seconds:.1f} s'} | {a.tokens} | ${a.cost_usd:.4f} | "
        f"{a.reason.replace('|', '/')} |"
        for a in attempts
    )
    return {
        "phase": phase,
        "iteration": iteration,
        "repair_timeline": MetadataValue.md(
            "| # | phase | outcome | failure | time | tokens | cost | why |\n"
            "|---|---|---|---|---|---|---|---|\n" + rows if rows else "first attempt"),
    }
