"""`mb show BUILD spec|plan|report` as text a person reads; `--json` keeps the raw value."""

from __future__ import annotations

from mb_core.models import EntitySpec, EvalReport, ScaffoldPlan, ScaffoldSpec


def _field(f) -> str:
    marks = [m for m, on in (("required", f.required), ("unique", f.unique), ("pii", f.pii)) if on]
    if f.choices:
        marks.append("one of " + ", ".join(f.choices))
    if f.min_value is not None or f.max_value is not None:
        marks.append("..".join("" if v is None else f"{v:g}" for v in (f.min_value, f.max_value)))
    return f"{f.name}: {f.type.value}" + (f" ({'; '.join(marks)})" if marks else "")


def _entities(entities: list[EntitySpec]) -> list[str]:
    lines = []
    for e in entities:
        lines.append(f"  {e.name} ({e.plural})")
        lines += [f"    - {_field(f)}" for f in e.fields]
    return lines


def _common(value: ScaffoldSpec | ScaffoldPlan) -> list[str]:
    lines = [value.title, "=" * len(value.title)]
    if value.summary:
        lines.append(value.summary)
    lines += ["", f"entities ({len(value.entities)}):", *_entities(value.entities)]
    if value.relations:
        lines += ["", "relations:"] + [f"  {r.parent} -{r.kind.value}-> {r.child}"
                                       + (" (required)" if r.required else "") for r in value.relations]
    if value.roles:
        lines += ["", "roles:"] + [
            f"  {r.name}: " + "; ".join(f"{ent} {','.join(a.value for a in acts)}"
                                        for ent, acts in r.permissions.items())
            for r in value.roles]
    if value.features:
        lines += ["", "features:"] + [f"  {f.kind.value} on {f.entity}" for f in value.features]
    return lines


SPEC_LINES = 20  # of the spec's own text at the top of `mb show BUILD spec`


def render_spec(spec: ScaffoldSpec) -> str:
    text = spec.text.splitlines()
    quoted = [f"> {line}" for line in text[:SPEC_LINES]]
    if len(text) > SPEC_LINES:
        quoted.append(f"> ... ({len(text) - SPEC_LINES} more lines: mb show BUILD spec --json)")
    lines = _common(spec)
    lines[2:2] = [*quoted, ""]
    if spec.requirements:
        lines += ["", f"requirements ({len(spec.requirements)}):"] + [
            f"  {r.id} {r.kind.value}{':' + r.rule.value if r.rule else ''}"
            f"{' ' + r.entity if r.entity else ''}{'.' + r.field if r.field else ''}: "
            f"\"{r.span.text}\"" for r in spec.requirements]
    if spec.decisions:
        lines += ["", "decisions:"] + [f"  {d.phrase}: {d.decision} ({d.reason})" for d in spec.decisions]
    return "\n".join(lines) + "\n"


def render_plan(plan: ScaffoldPlan) -> str:
    lines = _common(plan)
    lines += ["", f"risk {plan.risk_score}/100"
              + (f": {', '.join(f.value for f in plan.risk_flags)}" if plan.risk_flags else "")]
    lines += [f"  - {n}" for n in plan.risk_notes]
    lines += ["", f"endpoints ({len(plan.endpoints)}):"] + [
        f"  {e.method:<6} {e.path}" + (f"  [{', '.join(e.roles)}]" if e.roles else "")
        for e in plan.endpoints]
    if plan.security_controls:
        lines += ["", "security controls:"] + [f"  {c.name}: {c.description}"
                                               for c in plan.security_controls]
    if plan.unplanned:
        lines += ["", "not planned:"] + [f"  {rid}: {why}" for rid, why in plan.unplanned.items()]
    lines += ["", f"files ({len(plan.files)}):"] + [f"  {f}" for f in plan.files]
    return "\n".join(lines) + "\n"


def render_report(report: EvalReport) -> str:
    isolation = report.sandbox.isolation if report.sandbox else "unknown"
    lines = [(f"evaluation of {report.build_id} (attempt {report.iteration}): "
              f"{'passed' if report.passed else 'FAILED'}"),
             (f"tests: {report.tests_passed} passed, {report.tests_failed} failed, "
              f"{report.tests_errored} errors, {report.tests_skipped} skipped in {report.seconds:.1f} s "
              f"({isolation})")]
    if report.failure_summary:
        lines.append(f"failure: {report.failure_summary}")
    if report.risk_score is not None:
        lines.append(f"risk {report.risk_score}/100")
    if report.confidence:
        c = report.confidence
        lines.append(f"confidence {c.score}/100 ({c.level.value})")
    lines += [f"  signal: {s}" for s in report.risk_signals]
    lines += [f"  finding: {f.note}" for f in report.risk_findings]
    if report.checks:
        lines += ["", "quality gates:"] + [
            f"  {'ok  ' if c.passed else 'FAIL'} {c.name:<24} {c.summary}" for c in report.checks]
    if report.requirements:
        met = sum(r.status.value == "met" for r in report.requirements)
        lines += ["", f"requirements ({met} of {len(report.requirements)} met):"] + [
            f"  {r.status.value:<15} {r.summary or r.requirement}" + (f": {r.reason}" if r.reason else "")
            for r in report.requirements]
    failing = [t for t in report.tests if t.outcome.value in ("failed", "error")]
    if failing:
        lines += ["", "failing tests:"] + [f"  {t.nodeid}: {t.message.splitlines()[0] if t.message else ''}"
                                           for t in failing]
    return "\n".join(lines) + "\n"


RENDERERS = {"spec": render_spec, "plan": render_plan, "report": render_report}
