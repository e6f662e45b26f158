"""Reviewer: writes the pull-request body a person reads before approving a build."""

from __future__ import annotations

import re

from mb_core.agents.base import AgentDefinition, AgentRole
from mb_core.agents.io import ReviewInput, ReviewOutput
from mb_core.agents.security import finding_notes
from mb_core.requirements.trace import traceability_table, unmet, unmet_line


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _requirements_section(report) -> list[str]:
    """What the spec asked for and what of it was not built, each with the reason."""
    rows = report.requirements
    if not rows:
        return ["No explicit requirements were extracted from the spec."]
    left = unmet(rows)
    lines = [f"{len(rows) - len(left)} of {len(rows)} requirement(s) implemented and tested."]
    if left:
        lines += ["", "**Not built or not proven:**", *[f"- {unmet_line(r)}" for r in left]]
    return [*lines, "", traceability_table(rows)]


_ROUTE = re.compile(r"^\+\s*@\w+\.(get|post|put|patch|delete)\(", re.MULTILINE)


def declared_operations(patch: str) -> int:
    """HTTP operations the added Python lines of a patch declare (`@router.get(`, `@app.post(`)."""
    count, python = 0, False
    for line in patch.splitlines():
        if line.startswith("+++ "):
            python = line.endswith(".py") and not line[4:].removeprefix("b/").startswith("tests/")
        elif python and _ROUTE.match(line):
            count += 1
    return count


def write_review(inp: ReviewInput) -> ReviewOutput:
    plan, report, diff = inp.plan, inp.report, inp.diff
    risks = [note for note in plan.risk_notes] or [f"flag: {flag.value}" for flag in plan.risk_flags]
    # What the review of the generated tree found (CI files, harness) is named first.
    found = finding_notes(report.risk_findings)
    risks = found + risks
    score = report.risk_score if report.risk_score is not None else plan.risk_score
    needs_approval = score >= inp.approval_threshold or bool(report.risk_findings)
    tests_line = (
        f"{report.tests_passed} passed, {report.tests_failed} failed, {report.tests_errored} errors"
        f" in {report.seconds:.1f} s"
    )
    isolation = report.sandbox.isolation if report.sandbox else "unknown"
    entity_rows = [
        [e.name, str(len(e.fields)), ", ".join(f.name for f in e.fields if f.pii) or "-"]
        for e in plan.entities
    ]
    migration_rows = [
        [m.revision, m.message, ", ".join(m.tables + m.link_tables) or "-",
         ", ".join(f"{t}.{c}" for t, cols in m.columns.items() for c in cols) or "-"]
        for m in plan.migrations
    ]
    body = [
        f"## {plan.title}",
        "",
        plan.summary or f"Generated scaffold for {plan.title}.",
        "",
        "### What this builds",
        _table(["entity", "fields", "PII fields"], entity_rows),
        "",
        (f"Endpoints: {diff.operations if diff.operations else len(plan.endpoints)}. "
         f"Roles: {', '.join(r.name for r in plan.roles)}. "
         f"Features: {', '.join(sorted({f'{f.kind.value} ({f.entity})' for f in plan.features})) or 'none'}."),
        "",
        "### Risk",
        f"Score **{score}/100** (approval threshold {inp.approval_threshold}): "
        + ("**needs a reviewer's approval**." if needs_approval else "below the threshold, auto-approved."),
        "",
        *([f"**Found in the generated files ({len(found)}):**", *[f"- {note}" for note in found], ""]
          if found else []),
        *[f"- {risk}" for risk in risks[len(found):]],
        "",
        "Controls: " + ", ".join(c.name for c in plan.security_controls),
        "",
        "### Migrations",
        _table(["revision", "message", "tables", "columns added"], migration_rows)
        if migration_rows else "No migrations.",
        "",
        "### Tests",
        f"{'Passed' if report.passed else 'FAILED'}: {tests_line}, sandbox: {isolation}.",
        "",
        "### Requirements",
        *_requirements_section(report),
        "",
        "### Change",
        (f"{len(diff.files_changed)} files, +{diff.added_lines} -{diff.removed_lines} lines, "
         f"diff sha256 `{diff.sha256[:16]}`."),
        "",
        "### Review first",
        "- `app/security.py`: token checks, roles and tenant scoping.",
        "- The migrations under `migrations/versions/`.",
        *(["- The external calls: " + ", ".join(plan.external_services)] if plan.external_services else []),
        *[f"- `{path}`: {', '.join(sorted({f.flag.value for f in report.risk_findings if f.path == path}))}."
          for path in dict.fromkeys(f.path for f in report.risk_findings)],
    ]
    recommendation = "approve" if report.passed and not unmet(report.requirements) else "request_changes"
    return ReviewOutput(
        title=f"{plan.title}: generated scaffold",
        pr_body="\n".join(body).strip() + "\n",
        risks=risks,
        recommendation=recommendation,
    )


DEFINITION = AgentDefinition(
    role=AgentRole.reviewer,
    input_model=ReviewInput,
    output_model=ReviewOutput,
    offline_answer=write_review,
    purpose="write the pull-request body with risks, migrations and test results",
)
