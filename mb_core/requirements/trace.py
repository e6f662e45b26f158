"""Requirements -> plan element keys -> files and generated tests -> met or not, with the reason.

`map_to_plan` says which element keys of a plan would implement each requirement, and why there
is none when there is none; it checks the plan really holds what the requirement says (the choices,
the listed transitions, the parent side of a relation), not only that a name is there.
`trace_requirements` joins that with what the generator implements and how its tests went.
"""

from __future__ import annotations

import re

from mb_core.models import (
    Action,
    CheckSeverity,
    ImplementedElement,
    QualityCheckResult,
    RelationKind,
    Requirement,
    RequirementKind,
    RequirementStatus,
    RequirementTrace,
    RuleKind,
    ScaffoldPlan,
    TestCaseResult,
    TestOutcome,
)
from mb_core.requirements.catalog import CATALOG, PROVIDER_WAY
from mb_core.spec.naming import spoken_name

CHECK_NAME = "requirements_covered"


def requirement_keys(req: Requirement) -> list[str]:
    """The keys of `_keys`, also in the text's own words for records kept under a safe name
    (work_session answers to entity:session too)."""
    keys = _keys(req)
    names = {n for n in (req.entity, req.owner, req.other, req.params.get("container")) if n}
    spoken = {n: spoken_name(n) for n in names if spoken_name(n) != n}
    for name, said in spoken.items():
        keys += [re.sub(rf"(?<![a-z_]){name}(?![a-z_])", said, k) for k in keys]
    return list(dict.fromkeys(keys))


def _keys(req: Requirement) -> list[str]:
    """The readable keys a requirement answers to (golden tasks and the fidelity bench name
    requirements by them): entity:deal, relation:contact->deal, relation:a<->b,
    value_list:ticket.priority=low,normal,urgent, role:agent:ticket=read,update,
    rule:uniqueness:customer.email (and rule:uniqueness:customer), report:donation, ..."""
    k, e, f = req.kind.value, req.entity, req.field
    if k == "entity":
        return [f"entity:{e}"]
    if k == "field":
        return [f"field:{e}.{f}"]
    if k == "relation":
        if req.cardinality == RelationKind.many_to_many:
            return [f"relation:{req.owner}<->{req.other}", f"relation:{req.other}<->{req.owner}"]
        return [f"relation:{req.owner}->{req.other}"]
    if k == "value_list":
        return [f"value_list:{e}.{f}={','.join(req.values)}"]
    if k == "role":
        return [f"role:{req.role}:{e}={','.join(a.value for a in req.actions)}"]
    if k == "rule":
        rule = req.rule.value if req.rule else ""
        container = req.params.get("container") if req.rule == RuleKind.capacity else None
        return [f"rule:{rule}:{e}", *([f"rule:{rule}:{e}.{f}"] if f else []),
                *([f"rule:{rule}:{container}"] if container and container != e else [])]
    if k == "workflow":
        return [f"workflow:{req.params.get('action')}:{e}"]
    if k == "not_understood":
        return [f"not_understood:{req.span.start}-{req.span.end}"]
    return [f"{k}:{e}"]


def traced_keys(plan: ScaffoldPlan | None, rows: list[RequirementTrace]) -> dict[str, str]:
    """requirement key -> its trace status ("met", "not_implemented", ...)."""
    if plan is None:
        return {}
    status = {r.requirement: r.status.value for r in rows}
    return {key: status.get(req.id, "not traced") for req in plan.requirements
            for key in requirement_keys(req)}


def kind_label(req: Requirement) -> str:
    return f"rule:{req.rule.value}" if req.rule else req.kind.value


def _elements(req: Requirement, plan: ScaffoldPlan) -> tuple[list[str], str]:
    """(element keys, reason when there are none)."""
    if req.kind == RequirementKind.not_understood:
        return [], str(req.params.get("reason") or "the offline builder did not understand it; "
                       + PROVIDER_WAY)
    entities = {e.name: e for e in plan.entities}
    if req.kind == RequirementKind.relation:
        a, b = req.owner, req.other
        if req.cardinality == RelationKind.many_to_many:
            rel = next((r for r in plan.relations if {r.parent, r.child} == {a, b}
                        and r.kind == RelationKind.many_to_many), None)
            return ([f"relation:{rel.parent}<->{rel.child}"], "") if rel else (
                [], f"the plan has no many-to-many link between {a} and {b}")
        rel = next((r for r in plan.relations if r.parent == a and r.child == b
                    and r.kind == RelationKind.one_to_many), None)
        return ([f"relation:{a}->{b}"], "") if rel else (
            [], f"the plan does not give {b} a reference to its {a}")
    entity = req.entity
    every = req.kind == RequirementKind.role and entity == "*"
    if not every and (entity is None or entity not in entities):
        return [], (f"it names no record the plan builds ({entity})" if entity else
                    "the reader could not tell which record it is about")
    rule = CATALOG.get(kind_label(req))
    if rule is None:
        return [], f"no plan element implements a {req.kind.value}"
    fields = {} if every else {f.name: f for f in entities[entity].fields}
    return rule.elements(req, plan, entity, fields)


def map_to_plan(plan: ScaffoldPlan, requirements: list[Requirement]) -> ScaffoldPlan:
    """The plan with each requirement mapped to its element keys (or the reason there are none)."""
    mapping: dict[str, list[str]] = {}
    unplanned: dict[str, str] = {}
    for req in requirements:
        keys, reason = _elements(req, plan)
        if keys:
            mapping[req.id] = keys
        else:
            unplanned[req.id] = reason
    return plan.model_copy(update={"requirements": list(requirements),
                                   "requirement_elements": mapping, "unplanned": unplanned})


def _no_rule(key: str) -> str:
    kind = key.split(":")[0]
    what = {"feature": f"the {key.split(':')[1].replace('_', ' ')} rule", "role": "that role right",
            "action_roles": "a workflow action kept to its roles",
            "edit_lock": "rows fixed in a state",
            "relation": "that relation", "choices": "that value list", "unique": "that uniqueness",
            "length": "that length limit"
            }.get(kind, key)
    return f"the offline generator has no rule for {what} ({key}); {PROVIDER_WAY}"


def trace_requirements(plan: ScaffoldPlan, tests: list[TestCaseResult] | None,
                       implemented: list[ImplementedElement] | None = None) -> list[RequirementTrace]:
    """One row per requirement. `tests` None: not run yet (a plan-time trace)."""
    if implemented is None:
        from mb_core.codegen import implemented_elements

        implemented = implemented_elements(plan)
    by_key = {e.key: e for e in implemented}
    outcome = {t.nodeid: t.outcome for t in tests or []}
    rows = []
    for req in plan.requirements:
        keys = plan.requirement_elements.get(req.id, [])
        base = {"requirement": req.id, "kind": kind_label(req), "quote": req.span.text,
                    "summary": req.summary, "elements": keys}
        if not keys:
            rows.append(RequirementTrace(**base, status=RequirementStatus.not_implemented,
                                         reason=plan.unplanned.get(req.id, "not planned")))
            continue
        missing = [k for k in keys if k not in by_key]
        if missing:
            rows.append(RequirementTrace(**base, status=RequirementStatus.not_implemented,
                                         reason=_no_rule(missing[0])))
            continue
        files = list(dict.fromkeys(f for k in keys for f in by_key[k].files))
        untested = [k for k in keys if not by_key[k].tests]
        node_ids = list(dict.fromkeys(t for k in keys for t in by_key[k].tests))
        if untested:
            rows.append(RequirementTrace(**base, files=files, tests=node_ids,
                                         status=RequirementStatus.untested,
                                         reason=f"no generated test exercises {untested[0]}"))
            continue
        if tests is None:
            rows.append(RequirementTrace(**base, files=files, tests=node_ids,
                                         status=RequirementStatus.untested, reason="tests not run yet"))
            continue
        bad = [t for t in node_ids if outcome.get(t) != TestOutcome.passed]
        if bad:
            seen = outcome.get(bad[0])
            rows.append(RequirementTrace(**base, files=files, tests=node_ids,
                                         status=RequirementStatus.failed,
                                         reason=f"{bad[0]} {seen.value if seen else 'did not run'}"))
            continue
        rows.append(RequirementTrace(**base, files=files, tests=node_ids, status=RequirementStatus.met))
    return rows


def unmet(rows: list[RequirementTrace]) -> list[RequirementTrace]:
    return [r for r in rows if r.status != RequirementStatus.met]


def unmet_line(row: RequirementTrace) -> str:
    return f"{row.requirement} {row.kind} \"{row.quote}\": {row.status.value.replace('_', ' ')}: {row.reason}"


def requirements_gate(rows: list[RequirementTrace]) -> QualityCheckResult:
    """Every extracted requirement implemented and exercised by a passing generated test."""
    left = unmet(rows)
    evidence = {"total": len(rows), "met": len(rows) - len(left),
                "unmet": [unmet_line(r) for r in left[:50]]}
    if not left:
        return QualityCheckResult(name=CHECK_NAME, passed=True, severity=CheckSeverity.error,
                                  summary=f"all {len(rows)} requirement(s) implemented and tested",
                                  evidence=evidence)
    return QualityCheckResult(
        name=CHECK_NAME, passed=False, severity=CheckSeverity.error,
        summary=f"{len(left)} of {len(rows)} requirement(s) not met, first {unmet_line(left[0])}",
        evidence=evidence)


def traceability_table(rows: list[RequirementTrace]) -> str:
    """The table as markdown, for the report and the PR body."""
    lines = ["| requirement | kind | quote | plan element | files | tests | result |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        result = "passed" if r.status == RequirementStatus.met else (
            f"{r.status.value.replace('_', ' ')}: {r.reason}")
        cells = [r.requirement, r.kind, r.quote[:60], ", ".join(r.elements) or "-",
                 ", ".join(r.files[:3]) or "-", ", ".join(t.split("::")[-1] for t in r.tests[:3])
                 or "-", result]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines)


__all__ = [
    "CHECK_NAME",
    "Action",
    "map_to_plan",
    "requirements_gate",
    "trace_requirements",
    "traceability_table",
    "unmet",
    "unmet_line",
]
