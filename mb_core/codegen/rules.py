"""The rules an entity can carry (workflow, schedule, report, capacity, date order, due dates,
value ranges), resolved from a plan's feature options into what the templates print.

Strict where a guess would give wrong code (an unknown field, a limit that is not a number), and
filling in the obvious where the plan leaves it out (a workflow's states are its enum's choices).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from mb_core.codegen import naming
from mb_core.codegen.columns import ACTIONS, Column
from mb_core.codegen.errors import PlanNotRenderable
from mb_core.models import EntitySpec, FeatureKind, ScaffoldPlan


@dataclass(frozen=True)
class WorkflowAction:
    """A named move (approve, check_out...): `POST /{plural}/{id}/{name}` from `sources` to `target`."""

    name: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]  # roles the plan names for it; empty: whoever may update the entity


@dataclass(frozen=True)
class Workflow:
    column: Column
    states: tuple[str, ...]
    transitions: tuple[tuple[str, tuple[str, ...]], ...]
    initial: str
    actions: tuple[WorkflowAction, ...] = ()
    locked: tuple[str, ...] = ()  # states in which the row's fields may no longer be changed (409)

    @property
    def free_transitions(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """What `POST /{id}/transition` may do: the moves no named action owns (an action's move
        is made only through the action, so its roles cannot be bypassed)."""
        owned = {(src, a.target) for a in self.actions for src in a.sources}
        return tuple((s, tuple(t for t in targets if (s, t) not in owned)) for s, targets in self.transitions)

    def path_to(self, goal: str) -> list[tuple[str, str]] | None:
        """A shortest way from the initial state to `goal`: (state, endpoint) steps, the endpoint
        being "transition" or an action's name (None: unreachable)."""
        steps: dict[str, list[tuple[str, str]]] = {}
        for src, targets in self.free_transitions:
            steps.setdefault(src, []).extend((t, "transition") for t in targets)
        for action in self.actions:
            for src in action.sources:
                steps.setdefault(src, []).append((action.target, action.name))
        seen: dict[str, list[tuple[str, str]]] = {self.initial: []}
        frontier = [self.initial]
        while frontier:
            state = frontier.pop(0)
            if state == goal:
                return seen[state]
            for nxt, via in steps.get(state, ()):
                if nxt not in seen:
                    seen[nxt] = [*seen[state], (nxt, via)]
                    frontier.append(nxt)
        return None


@dataclass(frozen=True)
class Schedule:
    start: Column
    end: Column
    resource: Column | None


@dataclass(frozen=True)
class Report:
    group_by: tuple[Column, ...]  # enum, boolean or foreign-key (per parent) columns
    sums: tuple[Column, ...]
    averages: bool = False
    series: Column | None = None  # date column of the time series, when the plan asks for one
    periods: tuple[str, ...] = ()  # "day", "month"


@dataclass(frozen=True)
class Capacity:
    """At most `limit` (or the parent row's `limit_column`) rows of the entity per parent row."""

    parent: str
    fk: Column
    limit_column: str | None
    limit: int | None


@dataclass(frozen=True)
class DateOrder:
    start: Column
    end: Column
    allow_equal: bool


@dataclass(frozen=True)
class Overdue:
    due: Column
    done: Column | None  # a boolean (true is done) or an enum/string column
    done_values: tuple[str, ...] = ()


def named_column(spec: EntitySpec, columns: list, name: str, what: str, kinds: tuple[str, ...] = (),
                 make: tuple | None = None, extra=None, kind_name: str = "", kind_of=None) -> Column | None:
    """The column `name` of the entity a rule option names: its name checked, made with
    `extra(name, *make)` when the entity lacks it and the rule may add it (else None), and refused
    when it is not one of `kinds`. Every rule resolves the columns it is given this one way."""
    naming.check_name(name, f"{what} of {spec.name!r}")
    col = next((c for c in columns if c.name == name), None)
    if col is None:
        return extra(name, *make[:-1], **make[-1]) if make is not None and extra is not None else None
    if kinds and (kind_of(col) if kind_of else col.kind) not in kinds:
        raise PlanNotRenderable(f"{what} {spec.name}.{name} must be {kind_name or ' or '.join(kinds)}")
    return col


_DATED = ("datetime", "date")


def workflow(spec: EntitySpec, opts: dict, columns: list[Column], extra) -> Workflow:
    enum_cols = [c for c in columns if c.kind == "enum"]
    wanted = opts.get("field")
    if wanted:
        naming.check_name(str(wanted), f"workflow field of {spec.name!r}")
        col = next((c for c in columns if c.name == wanted), None)
    else:
        col = next((c for c in enum_cols if c.name in ("status", "stage", "state")), None) or (
            enum_cols[0] if enum_cols else None
        )
    states = tuple(dict.fromkeys(str(s) for s in opts.get("states") or (col.choices if col else ())))
    if len(states) < 2:
        raise PlanNotRenderable(f"status workflow of {spec.name!r} needs at least two states")
    if col is None:
        col = extra(str(wanted or "status"), "enum", False, choices=states, max_length=max(32, *map(len, states)))
    elif col.kind != "enum" or not set(states) <= set(col.choices):
        raise PlanNotRenderable(f"workflow field {spec.name}.{col.name} must be an enum holding the states")
    raw = opts.get("transitions")
    pairs: dict[str, list[str]] = {s: [] for s in states}
    if isinstance(raw, dict):
        for src, targets in raw.items():
            targets = [targets] if isinstance(targets, str) else list(targets or [])
            for dst in targets:
                pairs.setdefault(str(src), []).append(str(dst))
    elif isinstance(raw, list):
        for item in raw:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise PlanNotRenderable(f"workflow transitions of {spec.name!r} must be [from, to] pairs")
            pairs.setdefault(str(item[0]), []).append(str(item[1]))
    else:  # no rules given: each state moves on to the next one, never anywhere at all
        pairs = {} if opts.get("actions") else {s: [t] for s, t in itertools.pairwise(states)}
    actions = workflow_actions(spec, opts, states, pairs)
    for src, targets in pairs.items():
        for s in (src, *targets):
            if s not in states:
                raise PlanNotRenderable(f"workflow of {spec.name!r} has a transition with unknown state {s!r}")
    initial = str(opts.get("initial") or (col.default if col.has_default else None) or states[0])
    if initial not in states:
        raise PlanNotRenderable(f"initial state {initial!r} of {spec.name!r} is not one of its states")
    transitions = tuple((s, tuple(dict.fromkeys(pairs.get(s, [])))) for s in states)
    locked = tuple(dict.fromkeys(str(x) for x in opts.get("locked") or ()))
    unknown = [x for x in locked if x not in states]
    if unknown:
        raise PlanNotRenderable(f"workflow of {spec.name!r} locks unknown state {unknown[0]!r}")
    return Workflow(column=col, states=states, transitions=transitions, initial=initial, actions=actions,
                    locked=locked)


def workflow_actions(spec: EntitySpec, opts: dict, states: tuple[str, ...], pairs: dict) -> tuple[WorkflowAction, ...]:
    """Named moves; each is also a transition (added to `pairs` when the plan did not list it)."""
    raw = opts.get("actions") or {}
    if not isinstance(raw, dict):
        raise PlanNotRenderable(f"workflow actions of {spec.name!r} must map a name to from/to")
    found = []
    for name, rule in raw.items():
        naming.check_name(str(name), f"workflow action of {spec.name!r}")
        if name in ACTIONS or name in ("transition", "assign", "report", "export", "overdue"):
            raise PlanNotRenderable(f"workflow action {name!r} of {spec.name!r} clashes with a built-in endpoint")
        if not isinstance(rule, dict) or not rule.get("to"):
            raise PlanNotRenderable(f"workflow action {name!r} of {spec.name!r} needs a target state (to)")
        target = str(rule["to"])
        sources = rule.get("from") or [s for s in states if s != target]
        sources = tuple(dict.fromkeys([sources] if isinstance(sources, str) else [str(x) for x in sources]))
        roles = rule.get("roles") or []
        roles = tuple([roles] if isinstance(roles, str) else [str(r) for r in roles])
        for state in (*sources, target):
            if state not in states:
                raise PlanNotRenderable(f"workflow action {name!r} of {spec.name!r} names unknown state {state!r}")
        for src in sources:
            if target not in pairs.setdefault(src, []):
                pairs[src].append(target)
        found.append(WorkflowAction(name=str(name), sources=sources, target=target, roles=roles))
    return tuple(found)


def schedule(spec: EntitySpec, opts: dict, columns: list[Column], extra) -> Schedule:
    def time_column(name: str) -> Column:
        return named_column(spec, columns, name, "scheduling field", _DATED, ("datetime", True, {}), extra,
                            "a date or datetime")

    start = time_column(str(opts.get("start") or "starts_at"))
    end = time_column(str(opts.get("end") or "ends_at"))
    if start.name == end.name or start.kind != end.kind:
        raise PlanNotRenderable(f"scheduling of {spec.name!r} needs distinct start and end of the same type")
    resource = None
    if opts.get("resource"):
        name = str(opts["resource"])
        naming.check_name(name, f"scheduling resource of {spec.name!r}")
        resource = next((c for c in columns if c.name == name), None) or extra(name, "string", True, max_length=100)
    return Schedule(start=start, end=end, resource=resource)


def report(spec: EntitySpec, opts: dict, columns: list[Column]) -> Report:
    def named(key: str) -> list[str] | None:
        value = opts.get(key)
        if value is None:
            return None
        return [value] if isinstance(value, str) else [str(v) for v in value]

    def fk_or_name(name: str) -> str:
        # "donor" names the parent entity: its rows are grouped by the foreign key donor_id.
        return f"{name}_id" if any(c.name == f"{name}_id" and c.kind == "fk" for c in columns) else name

    groupable = [c for c in columns if c.kind in ("enum", "boolean", "fk")]
    summable = [c for c in columns if c.kind in ("integer", "decimal")]
    group_names = named("group_by")
    if group_names is not None:
        group_names = [fk_or_name(n) for n in group_names]
    sum_names = named("sum") or named("sums") or named("measure") or named("measures")
    groups = [c for c in groupable if c.kind != "fk"] if group_names is None else [
        c for n in group_names for c in groupable if c.name == n]
    sums = summable if sum_names is None else [c for c in summable if c.name in sum_names]
    unknown = set(group_names or []) - {c.name for c in groups} | (set(sum_names or []) - {c.name for c in sums})
    if unknown:
        raise PlanNotRenderable(
            f"report of {spec.name!r} names {min(unknown)!r}, not an enum/boolean/parent (group) or number (sum) field"
        )
    agg = str(opts.get("agg") or "sum")
    if agg not in ("sum", "count", "avg"):
        raise PlanNotRenderable(f"report of {spec.name!r} has aggregate {agg!r}; use sum, count or avg")
    if agg == "count" and sum_names is None:
        sums = []
    periods = named("period") or named("periods") or []
    if any(p not in ("day", "month") for p in periods):
        raise PlanNotRenderable(f"report of {spec.name!r} has period {periods!r}; use day or month")
    series = None
    if periods:
        dated = [c for c in columns if c.kind in ("date", "datetime")]
        wanted = opts.get("date")
        series = next((c for c in dated if c.name == wanted), None) if wanted else (dated[0] if dated else None)
        if series is None:
            raise PlanNotRenderable(f"time series of {spec.name!r} needs a date column ({wanted or 'none found'})")
    return Report(group_by=tuple(dict.fromkeys(groups)), sums=tuple(sums), averages=agg == "avg",
                  series=series, periods=tuple(dict.fromkeys(periods)))


def capacity(spec: EntitySpec, opts: dict, columns: list[Column], specs: dict[str, EntitySpec]) -> Capacity:
    parent = str(opts.get("parent") or "")
    fk = next((c for c in columns if c.kind == "fk" and c.ref_entity == parent), None)
    if fk is None:
        raise PlanNotRenderable(f"capacity of {spec.name!r} needs a relation from parent {parent!r}")
    limit = opts.get("limit")
    limit_column = opts.get("limit_field")
    if limit_column:
        field = named_column(specs[parent], specs[parent].fields, str(limit_column), "capacity limit",
                             ("integer",), kind_name="an integer field", kind_of=lambda f: f.type.value)
        if field is None:
            raise PlanNotRenderable(f"capacity limit {parent}.{limit_column} must be an integer field")
        return Capacity(parent=parent, fk=fk, limit_column=str(limit_column), limit=None)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise PlanNotRenderable(f"capacity of {spec.name!r} needs limit_field or a positive limit")
    return Capacity(parent=parent, fk=fk, limit_column=None, limit=limit)


def date_order(spec: EntitySpec, opts: dict, columns: list[Column], extra) -> DateOrder:
    def dated(name: str) -> Column:
        return named_column(spec, columns, name, "date order field", _DATED, ("date", False, {}), extra,
                            "a date or datetime")

    start, end = dated(str(opts.get("start") or "starts_on")), dated(str(opts.get("end") or "ends_on"))
    if start.name == end.name or start.kind != end.kind:
        raise PlanNotRenderable(f"date order of {spec.name!r} needs distinct start and end of the same type")
    allow_equal = opts.get("allow_equal")
    return DateOrder(start=start, end=end, allow_equal=start.kind == "date" if allow_equal is None else bool(allow_equal))


def overdue(spec: EntitySpec, opts: dict, columns: list[Column], extra, workflow: Workflow | None) -> Overdue:
    name = str(opts.get("due") or "due_on")
    due = named_column(spec, columns, name, "due field", _DATED, ("date", False, {}), extra, "a date or datetime")
    done_name = opts.get("done_field")
    if not done_name:
        return Overdue(due=due, done=None)
    done = named_column(spec, columns, str(done_name), "done field",
                        make=("boolean", False, {"default": False, "has_default": True}), extra=extra)
    if done.kind == "boolean":
        return Overdue(due=due, done=done)
    values = opts.get("done_values") or []
    values = [values] if isinstance(values, str) else [str(v) for v in values]
    if not values and workflow is not None and workflow.column.name == done.name:
        values = [s for s, targets in workflow.transitions if not targets]  # the final states
    if not values or (done.kind == "enum" and not set(values) <= set(done.choices)):
        raise PlanNotRenderable(f"due rule of {spec.name!r} needs done_values among {done.name}'s choices")
    return Overdue(due=due, done=done, done_values=tuple(values))


def with_value_ranges(plan: ScaffoldPlan, specs: dict[str, EntitySpec]) -> dict[str, EntitySpec]:
    """A value_range feature is the field's min_value/max_value, written on the field."""
    out = dict(specs)
    for feat in plan.features:
        if feat.kind != FeatureKind.value_range or feat.entity not in out:
            continue
        spec = out[feat.entity]
        name = feat.options.get("field")
        fld = next((f for f in spec.fields if f.name == name), None)
        if fld is None or fld.type.value not in ("integer", "decimal"):
            raise PlanNotRenderable(f"value range of {feat.entity!r} names {name!r}, not a number field")
        low, high = feat.options.get("min"), feat.options.get("max")
        if low is None and high is None:
            raise PlanNotRenderable(f"value range of {feat.entity}.{name} needs min or max")
        changed = fld.model_copy(update={
            "min_value": float(low) if low is not None else fld.min_value,
            "max_value": float(high) if high is not None else fld.max_value,
        })
        out[feat.entity] = spec.model_copy(update={"fields": [changed if f is fld else f for f in spec.fields]})
    return out
