"""What the generated tests of each rule do, as plain data: the values they send and the numbers
they expect, computed here from the blueprint so a template only prints them.

Every test name is decided here too; the renderer checks that each named test exists in the file it
renders, and `implemented_elements` reports the same names, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from mb_core.codegen import sources
from mb_core.codegen.blueprint import Blueprint
from mb_core.codegen.columns import DEFAULT_LENGTH, Column
from mb_core.codegen.entities import Entity

ECHOED = ("string", "text", "enum", "integer", "boolean", "email", "fk", "assignee")
SERIES_DAYS = (date(2031, 1, 5), date(2031, 1, 20), date(2031, 2, 3))
PAST_DUE, AS_OF, FUTURE_DUE = date(2090, 1, 1), date(2090, 2, 1), date(2090, 3, 1)


def func_name(*parts: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", "_".join(parts).lower())


def lit(value) -> str:
    return sources.literal(value)


def _json_day(col: Column, day: date, hours: int = 10) -> str:
    """A JSON value (Python source) for a date or datetime column on that day."""
    if col.kind == "datetime":
        return lit(datetime(day.year, day.month, day.day, hours, 0, tzinfo=UTC).isoformat())
    return lit(day.isoformat())


# --- fields: echoed values, choices, ranges, uniqueness ---------------------------------------


def field_checks(ent: Entity) -> dict:
    creatable = [c for c in ent.columns if c.in_create and (c.kind != "fk" or c.required)]  # what payloads hold
    return {
        "echoed": [c.name for c in creatable if c.kind in ECHOED],
        "present": [c.name for c in creatable if c.kind not in ECHOED],
    }


def choice_tests(ent: Entity) -> list[dict]:
    return [
        {"name": func_name("test", col.name, "outside_choices_is_422"), "col": col,
         "choices": "(" + ", ".join(lit(c) for c in col.choices) + ("," if len(col.choices) == 1 else "") + ")"}
        for col in ent.columns if col.kind == "enum" and col.in_create and col.choices
    ]


def unique_tests(ent: Entity) -> list[dict]:
    return [
        {"name": func_name("test_duplicate", col.name, "is_409"), "col": col}
        for col in ent.unique_columns if col.in_create and col.kind != "boolean"
    ]


# the lengths a text column gets when nothing asks for one: the reader's and the generator's
_DEFAULT_LENGTHS = frozenset({200, DEFAULT_LENGTH["string"]})


def length_tests(ent: Entity) -> list[dict]:
    """A text column limited to a stated length: that many characters are kept, one more is 422."""
    return [
        {"name": func_name("test", col.name, "longer_than", str(col.max_length), "characters_is_422"),
         "col": col, "longest": col.max_length}
        for col in ent.columns if col.kind in ("string", "text") and col.in_create
        and col.max_length and col.max_length not in _DEFAULT_LENGTHS
    ]


def _range_values(col: Column) -> dict:
    if col.kind == "integer":
        step = Decimal(1)
        low = Decimal(int(col.min_value)) if col.min_value is not None else None
        high = Decimal(int(col.max_value)) if col.max_value is not None else None
    else:
        step = Decimal("0.01")
        low = Decimal(str(col.min_value)) if col.min_value is not None else None
        high = Decimal(str(col.max_value)) if col.max_value is not None else None

    def js(value: Decimal) -> str:
        return str(int(value)) if col.kind == "integer" else lit(str(value))

    return {
        "below": js(low - step) if low is not None else None, "low": js(low) if low is not None else None,
        "above": js(high + step) if high is not None else None, "high": js(high) if high is not None else None,
    }


def range_tests(ent: Entity) -> list[dict]:
    out = []
    for col in ent.ranged:
        if col.unique:
            continue  # two rows at the same bound would clash on uniqueness, not on the range
        out.append({"name": func_name("test", col.name, "outside_its_range_is_422"), "col": col, **_range_values(col)})
    return out


# --- relations ---------------------------------------------------------------------------------


def relation_tests(bp: Blueprint) -> list[dict]:
    out = []
    for parent in bp.entities:
        for child in parent.children:
            ch = bp.entity(child.entity)
            col = ch.column(child.column)
            siblings = 2
            if ch.capacity and ch.capacity.parent == parent.name and ch.capacity.limit:
                siblings = min(siblings, ch.capacity.limit)
            out.append({
                "parent": parent, "child": ch, "column": col, "required": child.required, "siblings": siblings,
                "missing": func_name("test", ch.name, "with_missing", parent.name, "is_422"),
                "listing": func_name("test_list", ch.plural, "of", parent.name),
            })
    return out


# --- roles -------------------------------------------------------------------------------------


def role_tests(bp: Blueprint) -> list[dict]:
    out = []
    for role in bp.roles:
        for ent in bp.entities:
            out.append({
                "name": func_name("test_role", role.name, "on", ent.name), "role": role.name, "ent": ent,
                "allowed": {a: role.allows(ent.name, a) for a in ("create", "read", "update", "delete")},
            })
    return out


# --- features ------------------------------------------------------------------------------------


def _measure_values(col: Column) -> list[Decimal]:
    """Three values inside the column's range whose sums and averages are exact in binary floats."""
    low = Decimal(str(col.min_value)) if col.min_value is not None else Decimal(0)
    high = Decimal(str(col.max_value)) if col.max_value is not None else low + 16
    span = high - low
    values = []
    for k in (Decimal("0.5"), Decimal("0.25"), Decimal("0.75")):
        if col.kind == "integer":
            value = low.to_integral_value(rounding="ROUND_CEILING") + int(span * k)
        else:
            value = low + (span * k * 4).to_integral_value(rounding="ROUND_FLOOR") / 4
        values.append(min(max(value, low), high))
    return values


def _measures(ent: Entity) -> tuple[list[dict[str, str]], list[list[Decimal]]]:
    """Per row, the overrides (name -> Python source) of its measures, and the raw values."""
    sums = [c for c in ent.report.sums if c.in_create]
    per_col = {c.name: _measure_values(c) for c in sums}
    rows, raw = [], []
    for i in range(3):
        rows.append({c.name: (str(int(per_col[c.name][i])) if c.kind == "integer" else lit(str(per_col[c.name][i])))
                     for c in sums})
        raw.append([per_col[c.name][i] for c in sums])
    return rows, raw


def _expected(groups: list[tuple[str, list[int]]], raw: list[list[Decimal]], names: list[str], averages: bool) -> str:
    """`{key: (count, {measure: Decimal}, {measure: Decimal})}` as Python source."""
    def dec(value: Decimal) -> str:
        return f"decimal.Decimal({int(value)})" if value == value.to_integral_value() else f"decimal.Decimal({lit(str(value))})"

    parts = []
    for key, idx in groups:
        totals = {n: sum(raw[i][j] for i in idx) for j, n in enumerate(names)}
        sums = ", ".join(f"{lit(n)}: {dec(v)}" for n, v in totals.items())
        avgs = ", ".join(f"{lit(n)}: {dec(v / len(idx))}" for n, v in totals.items())
        parts.append(f"{key}: ({len(idx)}, {{{sums}}}" + (f", {{{avgs}}})" if averages else ")"))
    return "{" + ", ".join(parts) + "}"


def report_plan(bp: Blueprint, ent: Entity) -> dict:
    r = ent.report
    rows, raw = _measures(ent)
    names = [c.name for c in r.sums if c.in_create]
    group = next((c for c in r.group_by if c.in_create), None)
    keys = None
    if group is not None and group.kind == "fk":
        keys = ["first", "first", "second"]
        expected = _expected([("first", [0, 1]), ("second", [2])], raw, names, r.averages)
    elif group is not None:
        a, b = (lit(group.choices[0]), lit(group.choices[-1])) if group.kind == "enum" else ("True", "False")
        if a == b:
            group = None
        else:
            keys = [a, a, b]
            expected = _expected([(a, [0, 1]), (b, [2])], raw, names, r.averages)
    query = group.name if group is not None else None
    if group is None:
        only = "None"
        if r.group_by:  # grouped by a column the API sets itself: every new row has the same value
            query = r.group_by[0].name
            w = ent.workflow
            only = lit(w.initial) if w and w.column.name == query else "None"
        expected = _expected([(only, [0, 1, 2])], raw, names, r.averages)
    series = None
    if r.series is not None and r.series.in_create:
        period = r.periods[0]
        width = 7 if period == "month" else 10
        buckets: dict[str, list[int]] = {}
        for i, day in enumerate(SERIES_DAYS):
            buckets.setdefault(day.isoformat()[:width], []).append(i)
        dates = []
        for day in SERIES_DAYS:
            over = {r.series.name: _json_day(r.series, day)}
            over.update(_partner_dates(ent, r.series, day))
            dates.append(over)
        series = {"period": period, "rows": [{**d, **m} for d, m in zip(dates, rows)],
                  "expected": _expected([(lit(k), v) for k, v in buckets.items()], raw, names, r.averages)}
    return {
        "group": group, "query": query, "parent": group.ref_entity if group is not None and group.kind == "fk" else None,
        "group_keys": keys, "rows": rows, "names": names, "expected": expected, "averages": r.averages,
        "series": series, "name": "test_report_counts_and_sums_per_group",
    }


def _partner_dates(ent: Entity, col: Column, day: date) -> dict[str, str]:
    """When the series date is one end of a date rule, the other end moves along with it."""
    pairs = []
    if ent.schedule:
        pairs.append((ent.schedule.start, ent.schedule.end))
    if ent.date_order:
        pairs.append((ent.date_order.start, ent.date_order.end))
    out = {}
    for start, end in pairs:
        if col.name == start.name and end.in_create:
            out[end.name] = _json_day(end, day + timedelta(days=1))
        elif col.name == end.name and start.in_create:
            out[start.name] = _json_day(start, day - timedelta(days=1))
    return out


def capacity_plan(bp: Blueprint, ent: Entity) -> dict:
    c = ent.capacity
    limit = c.limit
    if c.limit_column:
        parent = bp.entity(c.parent)
        col = parent.column(c.limit_column)
        low = int(col.min_value) if col.min_value is not None else 1
        high = int(col.max_value) if col.max_value is not None else 1000
        limit = max(min(2, high), low)
    return {"limit": limit, "name": func_name("test_capacity_refuses_one_more", ent.name)}


def date_order_plan(ent: Entity) -> dict:
    d = ent.date_order
    helper = "moment" if d.start.kind == "datetime" else "day"
    same_as_schedule = ent.schedule is not None and {ent.schedule.start.name, ent.schedule.end.name} == {
        d.start.name, d.end.name}
    return {"helper": helper, "check_equal": not same_as_schedule, "name": "test_end_before_start_is_422"}


def overdue_plan(ent: Entity) -> dict:
    o = ent.overdue
    not_done: dict[str, str] = {}
    done: dict[str, str] | None = {}
    moves: list[str] = []
    if o.done is not None and o.done.kind == "boolean":
        not_done, done = {o.done.name: "False"}, {o.done.name: "True"}
    elif o.done is not None and o.done.in_create:
        if o.done.kind == "enum":
            open_value = next((c for c in o.done.choices if c not in o.done_values), None)
            not_done = {o.done.name: lit(open_value)} if open_value else {}
        else:
            not_done = {o.done.name: lit("Open")}
        done = {o.done.name: lit(o.done_values[0])}
    elif o.done is not None:  # the workflow's column: reach a done state through transitions
        w = ent.workflow
        path = next((p for p in (w.path_to(v) for v in o.done_values) if p), None) if w else None
        if w is None or w.initial in o.done_values or path is None:
            done = None
        else:
            moves = path
    return {
        "past": _json_day(o.due, PAST_DUE), "future": _json_day(o.due, FUTURE_DUE),
        "as_of": lit(AS_OF.isoformat() if o.due.kind == "date" else f"{AS_OF.isoformat()}T00:00:00+00:00"),
        "not_done": not_done, "done": done, "moves": moves,
        "name": "test_overdue_lists_rows_past_due_and_not_done",
    }


def workflow_action_tests(bp: Blueprint, ent: Entity, update_role: str) -> list[dict]:
    w = ent.workflow
    out = []
    for action in w.actions:
        source = next((s for s in action.sources if w.path_to(s) is not None), None)
        holders = [r.name for r in bp.roles if r.allows(ent.name, action.name)]
        # a role refused the action: one that may otherwise edit the record proves most (the
        # action is not simply an update)
        refused = [r for r in bp.roles if not r.allows(ent.name, action.name)]
        denied = next((r.name for r in sorted(refused, key=lambda r: not r.allows(ent.name, "update"))), None)
        wrong = next((s for s in w.states if s not in action.sources and w.path_to(s) is not None), None)
        out.append({
            "action": action, "source": source, "moves": w.path_to(source) if source else [],
            "role": next((h for h in holders if h != bp.admin_role), holders[0] if holders else bp.admin_role),
            "denied": denied, "wrong": wrong, "wrong_moves": w.path_to(wrong) if wrong else [],
            "name": func_name("test", action.name, ent.name),
        })
    return out


def edit_lock_tests(ent: Entity, change: dict | None) -> list[dict]:
    """One test per locked state the workflow can reach: a change that succeeds before the row gets
    there is refused (409) once it is there, and the stored value stays as it was."""
    w = ent.workflow
    if change is None:
        return []  # no field a PATCH can change: nothing to prove the lock with
    out = []
    for state in w.locked:
        moves = w.path_to(state)
        if moves is None:
            continue
        out.append({"state": state, "moves": moves, "before": state != w.initial, "change": change,
                    "name": func_name("test_change_is_409_once", state)})
    return out
