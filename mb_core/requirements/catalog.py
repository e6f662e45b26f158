"""What each requirement kind means to the generator, in one table: how the spec is made to say
it (`apply`, used by reconcile) and which plan elements implement it, or why none does
(`elements`, used by trace). A kind's feature, its options and its element key are written once.

Keys of the table are `kind_label`s: "value_list", "role", "rule:no_overlap", "workflow", ...
Relations and the entity itself are handled by reconcile and trace directly (they are not about
one record).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mb_core.codegen.errors import PlanNotRenderable
from mb_core.codegen.naming import check_name
from mb_core.models import (
    Action,
    FeatureKind,
    FieldSpec,
    FieldType,
    RelationKind,
    Requirement,
    RoleSpec,
    RuleKind,
    ScaffoldPlan,
)
from mb_core.requirements.rights import EVERY_ROLE
from mb_core.spec.fields import infer_field, is_due_field

PROVIDER_WAY = "an LLM provider (--provider openai) can build it"
MAX_NAME = 40
_DATED = (FieldType.date, FieldType.datetime)


def usable(name: str | None) -> bool:
    if not name or len(name) > MAX_NAME:
        return False
    try:
        check_name(name, "field")
    except PlanNotRenderable:
        return False
    return True


def feature_of(plan: ScaffoldPlan, kind: FeatureKind | str, entity: str):
    value = kind.value if isinstance(kind, FeatureKind) else kind
    return next((f for f in plan.features if f.kind.value == value and f.entity == entity), None)


Elements = tuple[list[str], str]


@dataclass(frozen=True)
class KindRule:
    apply: Callable  # (spec under reconciliation, requirement) -> None
    elements: Callable  # (requirement, plan, entity, fields by name) -> (keys, reason)


# --- value lists, uniqueness, ranges ----------------------------------------------------------


def _apply_value_list(s, req: Requirement) -> None:
    if not usable(req.field):
        return
    current = s.field(req.entity, req.field)
    s.put_field(req.entity, (current or FieldSpec(name=req.field)).model_copy(update={
        "type": FieldType.enum, "choices": list(req.values), "default": req.values[0],
        "max_length": None, "description": "allowed values as the text lists them"}))


def _value_list_elements(req, plan, entity, fields) -> Elements:
    f = fields.get(req.field or "")
    # "a status: pending, packed or shipped ... can be cancelled before it ships": the text's own
    # path on the field adds the state it names after the list
    wf = feature_of(plan, FeatureKind.status_workflow, entity)
    added = set(wf.options.get("states") or []) if wf is not None and wf.options.get("field") == req.field \
        else set()
    if f is not None and added and list(f.choices)[:len(req.values)] == list(req.values) and \
            set(f.choices[len(req.values):]) <= added:
        return [f"choices:{entity}.{req.field}"], ""
    if f is None or list(f.choices) != list(req.values):
        return [], f"{entity}.{req.field} is not planned with exactly the values {', '.join(req.values)}"
    return [f"choices:{entity}.{req.field}"], ""


def _apply_unique(s, req: Requirement) -> None:
    if not usable(req.field):
        return
    current = s.field(req.entity, req.field) or infer_field(req.field, req.entity)
    s.put_field(req.entity, current.model_copy(update={"unique": True, "required": True}))


def _unique_elements(req, plan, entity, fields) -> Elements:
    f = fields.get(req.field or "")
    return ([f"unique:{entity}.{req.field}"], "") if f is not None and f.unique else (
        [], f"{entity}.{req.field} is not planned unique")


def _apply_range(s, req: Requirement) -> None:
    if not usable(req.field):
        return
    current = s.field(req.entity, req.field)
    if current is None:
        current = FieldSpec(name=req.field, type=FieldType.integer)
    if current.type not in (FieldType.integer, FieldType.decimal):
        current = current.model_copy(update={"type": FieldType.decimal, "max_length": None,
                                             "choices": []})
    s.put_field(req.entity, current.model_copy(update={
        "min_value": req.params.get("min"), "max_value": req.params.get("max")}))
    s.feature(FeatureKind.value_range, req.entity, field=req.field, min=req.params.get("min"),
              max=req.params.get("max"))


def _range_elements(req, plan, entity, fields) -> Elements:
    f = fields.get(req.field or "")
    if f is None or (f.min_value, f.max_value) != (req.params.get("min"), req.params.get("max")):
        return [], f"{entity}.{req.field} is not planned with that range"
    return [f"feature:value_range:{entity}"], ""


def _apply_length(s, req: Requirement) -> None:
    if not usable(req.field):
        return
    current = s.field(req.entity, req.field) or infer_field(req.field, req.entity)
    if current.type not in (FieldType.string, FieldType.text):
        current = current.model_copy(update={"type": FieldType.string, "choices": [],
                                             "min_value": None, "max_value": None})
    s.put_field(req.entity, current.model_copy(update={"max_length": req.params.get("max")}))


def _length_elements(req, plan, entity, fields) -> Elements:
    f = fields.get(req.field or "")
    if f is None or f.max_length != req.params.get("max"):
        return [], f"{entity}.{req.field} is not planned at most {req.params.get('max')} characters long"
    return [f"length:{entity}.{req.field}"], ""


# --- state machines and the workflows that are one ----------------------------------------------


def _apply_state_machine(s, req: Requirement) -> None:
    entity, field = req.entity, req.field or "status"
    key = (FeatureKind.status_workflow, entity)
    if not usable(field) or key in s.asked:
        return  # one workflow per entity: an earlier one of the text's stays, this one is reported
    s.features.pop(key, None)
    s.asked.add(key)
    current = s.field(entity, field)
    states = list(dict.fromkeys([*req.values, *(current.choices if current and
                                                 current.type == FieldType.enum else [])]))
    s.put_field(entity, (current or FieldSpec(name=field)).model_copy(update={
        "type": FieldType.enum, "choices": states, "default": req.values[0], "max_length": None}))
    transitions = {state: list(req.params.get("transitions", {}).get(state, [])) for state in states}
    # a guarded move ("cancelled only while pending") is a named action from those states alone
    actions = req.params.get("actions") or {}
    s.feature(FeatureKind.status_workflow, entity, field=field, states=states,
              transitions=transitions, initial=req.values[0], **({"actions": actions} if actions else {}))


def _state_machine_elements(req, plan, entity, fields) -> Elements:
    wf = feature_of(plan, FeatureKind.status_workflow, entity)
    if wf is None:
        return [], f"the plan has no status workflow on {entity}"
    planned = {s: sorted(t) for s, t in (wf.options.get("transitions") or {}).items() if t}
    wanted = {s: sorted(t) for s, t in req.params.get("transitions", {}).items() if t}
    if planned != wanted:
        return [], f"the plan's {entity} workflow allows other moves than the text lists"
    have = wf.options.get("actions") or {}
    for name, move in (req.params.get("actions") or {}).items():
        got = have.get(name) or {}
        if got.get("to") != move["to"] or sorted(got.get("from") or []) != sorted(move["from"]):
            return [], f"the plan's {entity} workflow has no {name} action from {' or '.join(move['from'])}"
    return [f"feature:status_workflow:{entity}"], ""


# the states of each workflow the text names, the moves between them, and the named action that
# makes each move (`POST /{plural}/{id}/{action}`)
WORKFLOW_STATES = {
    "approve_reject": (["pending", "approved", "rejected"], {"pending": ["approved", "rejected"]},
                       {"approve": ("pending", "approved"), "reject": ("pending", "rejected")}),
    "check_in_out": (["checked_in", "checked_out"], {"checked_in": ["checked_out"],
                                                     "checked_out": ["checked_in"]},
                     {"check_out": ("checked_in", "checked_out"),
                      "check_in": ("checked_out", "checked_in")}),
    "borrow_return": (["available", "borrowed"], {"available": ["borrowed"],
                                                  "borrowed": ["available"]},
                      {"borrow": ("available", "borrowed"), "give_back": ("borrowed", "available")}),
    "publish": (["draft", "published"], {"draft": ["published"]}, {"publish": ("draft", "published")}),
    "archive": (["active", "archived"], {"active": ["archived"]}, {"archive": ("active", "archived")}),
}
# the state each workflow starts in: a row is created in it, so it is no work of the text's
_STARTING_STATES = {"pending", "available", "draft", "active"}


def _workflow_states(s, entity: str, action: str, roles: list[str] | None = None) -> None:
    """approve/reject, check in/out, borrow/return: a status with exactly those moves, each made
    by its named action. The generator gives an entity one status workflow: one the text asked for
    first stays (merging a second into it would leave named actions on states it lacks) and the
    trace reports the second not implemented; a default workflow of the reader's is replaced."""
    states, moves, named = WORKFLOW_STATES[action]
    key = (FeatureKind.status_workflow, entity)
    if key in s.asked:
        _name_moves(s, key, named, roles)
        return
    current = s.features.pop(key, None)  # a default the reader gave: the text's workflow replaces it
    s.asked.add(key)
    field = "status"
    existing = s.field(entity, field)
    if current is not None or (existing is not None and existing.type == FieldType.enum
                               and not set(states) <= set(existing.choices)):
        field = f"{action.split('_')[0]}_status"
    s.put_field(entity, FieldSpec(name=field, type=FieldType.enum, choices=states, default=states[0],
                                  description=f"{action.replace('_', '/')} as the text asks"))
    s.feature(FeatureKind.status_workflow, entity, field=field, states=states,
              transitions={x: moves.get(x, []) for x in states}, initial=states[0],
              actions={name: {"from": [src], "to": dst, **({"roles": roles} if roles else {})}
                       for name, (src, dst) in named.items()})
    for name in roles or ():  # the role that does the work exists, seeing every record
        s.roles.setdefault(name, RoleSpec(name=name, permissions={"*": [Action.read]},
                                          description="named in the spec"))


def _name_moves(s, key, named: dict, roles: list[str] | None) -> None:
    """A path the text gave ("from requested to approved") that reaches the work's states: the
    work becomes named actions on it ("approve": every state that moves to approved)."""
    wf = s.features[key]
    moves = wf.options.get("transitions") or {}
    actions = dict(wf.options.get("actions") or {})
    for name, (_src, dst) in named.items():
        sources = [src for src, targets in moves.items() if dst in (targets or [])]
        if sources and name not in actions:
            actions[name] = {"from": sources, "to": dst, **({"roles": roles} if roles else {})}
    if actions:
        s.feature(wf.kind, wf.entity, actions=actions)
    for name in roles or ():
        s.roles.setdefault(name, RoleSpec(name=name, permissions={"*": [Action.read]},
                                          description="named in the spec"))


def _apply_workflow(s, req: Requirement) -> None:
    action = req.params.get("action")
    if action == "assign":
        s.feature(FeatureKind.assignment, req.entity, field="assignee")
    elif action in WORKFLOW_STATES:
        _workflow_states(s, req.entity, action, [r for r in req.params.get("roles", []) if usable(r)])


def _workflow_elements(req, plan, entity, fields) -> Elements:
    action = req.params.get("action")
    if action == "assign":
        return ([f"feature:assignment:{entity}"], "") if feature_of(
            plan, FeatureKind.assignment, entity) else ([], f"the plan assigns no {entity}")
    states, _moves, named = WORKFLOW_STATES.get(action, ([], {}, {}))
    wanted = set(states) - _STARTING_STATES
    wf = feature_of(plan, FeatureKind.status_workflow, entity)
    have = set(wf.options.get("states", [])) if wf else set()
    if action == "approve_reject" and "approved" in have:  # "approve" alone on the text's own path
        named = {n: move for n, move in named.items() if move[1] in have}
        wanted &= have
    if wf is None or not wanted or not wanted <= have:
        return [], f"the plan's {entity} workflow has no {'/'.join(sorted(wanted))} states"
    actions = wf.options.get("actions") or {}
    if not set(named) <= set(actions):
        return [], f"the plan's {entity} workflow has no {' and '.join(named)} actions"
    roles = req.params.get("roles") or []
    if any(set(roles) - set((actions[n] or {}).get("roles") or []) for n in named):
        return [], f"the plan's {' and '.join(named)} actions are not {' or '.join(roles)}'s alone"
    # each action is its role's, and a test proves another role is refused it (403)
    return [f"feature:status_workflow:{entity}", *(f"role:{r}:{entity}:{n}" for r in roles for n in named),
            *(f"action_roles:{entity}:{n}" for n in named if roles)], ""


def _apply_edit_lock(s, req: Requirement) -> None:
    """The states in which a row is fixed, on the record's workflow (reconcile applies locks last,
    so they narrow whichever workflow the text gave); a status the text listed with no moves gets
    the plain one, each state on to the next."""
    entity, key = req.entity, (FeatureKind.status_workflow, req.entity)
    wf = s.features.get(key)
    asked = key in s.asked
    field = (wf.options.get("field") if wf and asked else None) or req.field or "status"
    current = s.field(entity, field)
    choices = list(current.choices) if current is not None and current.type == FieldType.enum else []
    # the text's workflow moves between its own states; a default of the reader's takes the
    # states the text listed for the field
    states = list((wf.options.get("states") if wf else None) or choices) if asked else choices
    if not states or not set(req.values) <= set(states):
        return  # no status holding these states: the trace says so
    if not asked:
        s.features.pop(key, None)
        s.feature(FeatureKind.status_workflow, entity, field=field, states=states,
                  initial=current.default if current.default in states else states[0])
        wf = s.features[key]
    locked = set(wf.options.get("locked") or []) | set(req.values)
    s.feature(FeatureKind.status_workflow, entity, locked=[x for x in states if x in locked])
    if key not in s.asked:
        # the text gave no moves: any state may follow any other, but none leaves a fixed row (a
        # step back would make it editable again)
        s.feature(FeatureKind.status_workflow, entity, transitions={
            src: [] if src in locked else [t for t in states if t != src] for src in states})


def _edit_lock_elements(req, plan, entity, fields) -> Elements:
    wf = feature_of(plan, FeatureKind.status_workflow, entity)
    if wf is None:
        return [], f"the plan has no status workflow on {entity} with the states {', '.join(req.values)}"
    missing = [x for x in req.values if x not in (wf.options.get("locked") or [])]
    if missing:
        return [], f"the plan does not fix {entity} rows that are {' or '.join(missing)}"
    return [f"edit_lock:{entity}:{x}" for x in req.values], ""


# --- scheduling, capacity, date order, due dates --------------------------------------------------


def _apply_no_overlap(s, req: Requirement) -> None:
    entity, resource = req.entity, req.params.get("resource")
    if resource in s.entities and resource != entity and not any(
            {r.parent, r.child} == {resource, entity} for r in s.relations):
        s.relation(resource, entity, RelationKind.one_to_many)
    s.feature(FeatureKind.scheduling, entity, start="starts_at", end="ends_at",
              resource=f"{resource}_id" if resource in s.entities else None)


def _no_overlap_elements(req, plan, entity, fields) -> Elements:
    sched = feature_of(plan, FeatureKind.scheduling, entity)
    if sched is None:
        return [], f"the plan has no scheduling (overlap check) on {entity}"
    resource = req.params.get("resource")
    if resource and sched.options.get("resource") != f"{resource}_id":
        return [], f"the overlap check on {entity} is not per {resource}"
    return [f"feature:scheduling:{entity}"], ""


def _capacity_options(s, req: Requirement) -> dict | None:
    entity, container = req.entity, req.params.get("container")
    if container not in s.entities or container == entity:
        return None  # a limit on rows of nothing: no parent to count them under
    if not any(r.parent == container and r.child == entity and r.kind == RelationKind.one_to_many
               for r in s.relations):
        s.relation(container, entity, RelationKind.one_to_many)
    limit = req.params.get("limit")
    if isinstance(limit, int) and limit > 0:
        return {"parent": container, "limit": limit}
    current = s.field(container, "capacity")
    if current is not None and current.type != FieldType.integer:
        return None
    if current is None:
        s.put_field(container, FieldSpec(name="capacity", type=FieldType.integer, required=True,
                                         min_value=1, description="how many it takes"))
    return {"parent": container, "limit_field": "capacity"}


def _date_order_options(s, req: Requirement) -> dict | None:
    start, end = req.params.get("earlier"), req.params.get("later")
    if not usable(start) or not usable(end) or start == end:
        return None
    kinds = {f.type for f in (s.field(req.entity, start), s.field(req.entity, end)) if f is not None}
    if not kinds <= set(_DATED) or len(kinds) > 1:
        return None  # the generator orders two dates (or two times), nothing else
    return {"start": start, "end": end}


def _overdue_options(s, req: Requirement) -> dict | None:
    due = next((f.name for f in s.entities[req.entity].fields if f.type in _DATED
                and is_due_field(f.name)), None)
    return {"due": due} if due else {}


def _feature_rule(options: Callable) -> Callable:
    def apply(s, req: Requirement) -> None:
        found = options(s, req)
        if found is not None:
            s.feature(FeatureKind(req.rule.value), req.entity, **found)
    return apply


def _feature_elements(req, plan, entity, fields) -> Elements:
    return [f"feature:{req.rule.value}:{entity}"], ""


# --- roles ------------------------------------------------------------------------------------------


def _apply_role(s, req: Requirement) -> None:
    if req.role == EVERY_ROLE:  # "everyone can view articles": each role of the app
        for name in list(s.roles):
            _grant(s, req, name)
        return
    if not req.role or not usable(req.role):
        return
    _grant(s, req, req.role)


def _grant(s, req: Requirement, name: str) -> None:
    entity = req.entity
    role = s.roles.get(name) or RoleSpec(name=name, permissions={"*": [Action.read]},
                                         description="named in the spec")
    perms = dict(role.permissions)
    denied = {Action(a) for a in req.params.get("denied", [])}
    granted = set(perms.get(entity, [])) | set(req.actions) | ({Action.read} - denied)
    perms[entity] = sorted(granted - denied, key=list(Action).index)
    s.roles[name] = role.model_copy(update={"permissions": perms})


def _role_elements(req, plan, entity, fields) -> Elements:
    if req.role == EVERY_ROLE:  # each role of the plan holds the right, each proven by its test
        keys: list[str] = []
        for role in plan.roles:
            found, why = _role_elements(req.model_copy(update={"role": role.name}), plan, entity, fields)
            if why:
                return [], why
            keys += found
        return (keys, "") if keys else ([], "the plan has no roles")
    role = next((r for r in plan.roles if r.name == req.role), None)
    if role is None:
        return [], f"the plan has no role {req.role}"
    targets = [e.name for e in plan.entities] if entity == "*" else [entity]
    keys: list[str] = []
    for target in targets:
        granted = set(role.permissions.get(target, role.permissions.get("*", [])) if entity == "*"
                      else set(role.permissions.get(target, [])) | set(role.permissions.get("*", [])))
        missing = [a.value for a in req.actions if a not in granted]
        if missing:
            return [], f"role {req.role} is not granted {', '.join(missing)} on {target}"
        extra = [a for a in req.params.get("denied", []) if Action(a) in granted]
        if extra:
            return [], f"role {req.role} is also granted {', '.join(extra)} on {target}"
        keys += [f"role:{req.role}:{target}:{a.value}" for a in req.actions]
        keys += [f"role:{req.role}:{target}:not_{a}" for a in req.params.get("denied", [])]
    return keys, ""


# --- views: reports, exports, search ------------------------------------------------------------------


def _apply_report(s, req: Requirement) -> None:
    if req.params.get("ui"):
        return
    entity, group = req.entity, req.params.get("group_by")
    field = s.field(entity, group) if group else None
    options: dict = {"per": group} if group in s.entities else {}
    if field is not None and field.type in (FieldType.enum, FieldType.boolean):
        options = {"group_by": group}
    period = req.params.get("period")
    dated = [f.name for f in s.entities[entity].fields if f.type in _DATED]
    if period in ("day", "month") and dated:
        options.update({"period": period, "date": dated[0]})
    s.feature(FeatureKind.reports, entity, **options)


def _report_elements(req, plan, entity, fields) -> Elements:
    if req.params.get("ui"):
        return [], (f"it asks for a {req.params['ui']}: the offline builder generates an API, "
                    f"not a user interface; {PROVIDER_WAY}")
    if feature_of(plan, FeatureKind.reports, entity) is None:
        return [], f"the plan has no report over {entity}"
    return [f"feature:reports:{entity}"], ""


def _apply_export(s, req: Requirement) -> None:
    if req.params.get("format", "csv") == "csv":
        s.feature(FeatureKind.csv_export, req.entity)


def _export_elements(req, plan, entity, fields) -> Elements:
    fmt = req.params.get("format", "csv")
    if fmt != "csv":
        return [], f"the offline builder exports CSV only, not {fmt.upper()}; {PROVIDER_WAY}"
    return ([f"feature:csv_export:{entity}"], "") if feature_of(
        plan, FeatureKind.csv_export, entity) else ([], f"the plan has no CSV export of {entity}")


def _apply_search(s, req: Requirement) -> None:
    s.feature(FeatureKind.search, req.entity)
    for name in req.params.get("fields", []):
        current = s.field(req.entity, name)
        if current is not None:
            s.put_field(req.entity, current.model_copy(update={"searchable": True}))


def _search_elements(req, plan, entity, fields) -> Elements:
    return ([f"feature:search:{entity}"], "") if feature_of(plan, FeatureKind.search, entity) \
        else ([], f"the plan has no search over {entity}")


def _apply_field(s, req: Requirement) -> None:
    return None


def _field_elements(req, plan, entity, fields) -> Elements:
    return ([f"field:{entity}.{req.field}"], "") if req.field in fields else (
        [], f"the plan has no field {entity}.{req.field}")


def _entity_elements(req, plan, entity, fields) -> Elements:
    return [f"entity:{entity}"], ""


CATALOG: dict[str, KindRule] = {
    "entity": KindRule(_apply_field, _entity_elements),
    "field": KindRule(_apply_field, _field_elements),
    "value_list": KindRule(_apply_value_list, _value_list_elements),
    "role": KindRule(_apply_role, _role_elements),
    "report": KindRule(_apply_report, _report_elements),
    "export": KindRule(_apply_export, _export_elements),
    "search_filter": KindRule(_apply_search, _search_elements),
    "workflow": KindRule(_apply_workflow, _workflow_elements),
    f"rule:{RuleKind.uniqueness.value}": KindRule(_apply_unique, _unique_elements),
    f"rule:{RuleKind.value_range.value}": KindRule(_apply_range, _range_elements),
    f"rule:{RuleKind.length_limit.value}": KindRule(_apply_length, _length_elements),
    f"rule:{RuleKind.state_machine.value}": KindRule(_apply_state_machine, _state_machine_elements),
    f"rule:{RuleKind.edit_lock.value}": KindRule(_apply_edit_lock, _edit_lock_elements),
    f"rule:{RuleKind.no_overlap.value}": KindRule(_apply_no_overlap, _no_overlap_elements),
    f"rule:{RuleKind.capacity.value}": KindRule(_feature_rule(_capacity_options), _feature_elements),
    f"rule:{RuleKind.date_order.value}": KindRule(_feature_rule(_date_order_options), _feature_elements),
    f"rule:{RuleKind.due_overdue.value}": KindRule(_feature_rule(_overdue_options), _feature_elements),
}
