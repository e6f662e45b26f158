"""What each materialization shows in the Dagster UI: the run panel of a build."""

from __future__ import annotations

from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

from mb_core.models import DiffArtifact, EvalReport, ScaffoldPlan, ScaffoldSpec
from mb_core.requirements.trace import traceability_table

DIFF_PREVIEW_LINES = 120


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
        "risk_score": report.risk_score if report.risk_score is not None else -1,
        "risk_findings": MetadataValue.md(
            "\n".join(f"- {'refused' if f.blocking else 'held'}: {f.note}" for f in report.risk_findings)
            or "none"
        ),
        "requirements_met": sum(r.status.value == "met" for r in report.requirements),
        "requirements_total": len(report.requirements),
        "requirements": MetadataValue.md(traceability_table(report.requirements)
                                         if report.requirements else "no requirements extracted"),
    }


def usage_metadata(summary: dict) -> dict:
    """Tokens and cost per role so far, the budget and what is left (a Meter summary)."""
    return {"usage": MetadataValue.json(summary)}


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
