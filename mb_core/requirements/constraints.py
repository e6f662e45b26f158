"""Rules a record's rows must keep, read from the sentences that state them: a status that moves
only "from A to B to C", a unique field, no overlapping bookings of one resource, a capacity,
one date after another, due dates and overdue rows, a value range.
"""

from __future__ import annotations

import re

from mb_core.models import RequirementKind, RuleKind
from mb_core.requirements.extract import Collector, _field_name, _value
from mb_core.spec.fields import is_due_field
from mb_core.spec.naming import plural, singular
from mb_core.spec.values import FIELD_PHRASE
from mb_core.spec.vocabulary import words

_STATE_FIELDS = {"status", "stage", "state", "phase"}

_STATE = r"[\w-]+(?: (?!(?:to|then|or|and|by|when|after|before|once)\b)[\w-]+)?"
_FLOW = re.compile(
    rf"(?:go|goes|move|moves|moving|progress|progresses|pass|passes|flow|flows|advance|advances|"
    rf"transition|transitions|change|changes)(?: only)?\s+from\s+(?P<chain>{_STATE}(?:\s+(?:and then to|"
    rf"then to|and then|then|to|or)\s+{_STATE})+)", re.IGNORECASE)
_ARROWS = re.compile(r"(?P<chain>[\w-]+(?:\s*(?:->|→|=>)\s*[\w-]+)+)")
# "a job goes through quoted, printing and delivered": the states of the path, in order
_THROUGH = re.compile(
    rf"\b(?:go|goes|going|move|moves|pass|passes|progress|progresses|run|runs|cycle|cycles)\s+through\s+"
    rf"(?:the\s+)?(?:(?:stages|states|steps|statuses|phases)\s+)?:?\s*(?P<chain>{_STATE}(?:\s*,\s*{_STATE})*"
    rf"\s*,?\s+(?:and then|and finally|and|then|finally)\s+{_STATE})", re.IGNORECASE)
_THROUGH_STEP = r"\s*,\s*(?:and then\s+|and finally\s+|and\s+|then\s+|finally\s+)?|\s+(?:and then|and finally|and|then|finally)\s+"
# "a permit starts as submitted, then becomes under review, and finally granted or refused"
_NEXT = (r"\s*,?\s*(?:and\s+)?(?:then|finally|later|next|eventually|afterwards)\s*,?\s+(?:(?:it|they)\s+)?"
         r"(?:(?:becomes?|moves?\s+(?:on\s+)?to|goes\s+to|turns(?:\s+into)?|is|are|gets?|can be|may be)\s+)?")
_STARTS = re.compile(
    rf"\b(?:starts?|begins?)(?:\s+(?:out|off))?\s+(?:as|in)\s+(?:an?\s+|the\s+)?(?P<chain>{_STATE}"
    rf"(?:{_NEXT}{_STATE}(?:\s+or\s+{_STATE})?)+)", re.IGNORECASE)


def _state_machines(c: Collector, start: int, sentence: str) -> None:
    near = c.r.near(start, start + len(sentence))
    for pattern, splitter in ((_FLOW, r"\s+(?:and then to|then to|and then|then|to)\s+"), (_ARROWS, r"\s*(?:->|→|=>)\s*"),
                              (_THROUGH, _THROUGH_STEP), (_STARTS, _NEXT)):
        for m in pattern.finditer(sentence):
            steps = [s for s in re.split(splitter, m.group("chain").strip()) if s]
            transitions: dict[str, list[str]] = {}
            states: list[str] = []
            previous: list[str] = []
            for step in steps:
                options = [_value(x) for x in re.split(r"\s+or\s+", step) if _value(x)]
                for state in options:
                    if state not in states:
                        states.append(state)
                for src in previous:
                    transitions.setdefault(src, [])
                    transitions[src] += [o for o in options if o not in transitions[src]]
                previous = options
            if len(states) < 2:
                continue
            words_before = sentence[:m.start()].lower()
            field = next((f for f in _STATE_FIELDS if re.search(rf"\b{f}\b", words_before)), "status")
            before = [x for x in near if x.start <= start + m.start()]
            entity = (before[-1].entity if before else (near[0].entity if near else None)) or (
                c.r.entity_with_field(field, []) or (c.r.entities[0] if len(c.r.entities) == 1 else None))
            c.add(RequirementKind.rule, start + m.start(), start + m.end(), ("sm", entity),
                  rule=RuleKind.state_machine, entity=entity, field=field, values=states,
                  params={"transitions": transitions},
                  summary=f"{entity}.{field} moves only " + "; ".join(
                      f"{a} -> {', '.join(b)}" for a, b in transitions.items()))



_WHICH = r"(?:,?\s+(?:that|which))?"
_UNIQUE = re.compile(
    rf"(?<![\w'\u2019])(?P<a>{FIELD_PHRASE}){_WHICH}\s+(?:must|should|has to|have to|needs? to|"
    rf"will|shall)\s+(?:always\s+)?be\s+(?:unique|distinct)|"
    r"\bunique\s+(?P<b>[\w-]+(?: [\w-]+)?)|no two\s+[\w-]+(?: [\w-]+)?\s+(?:(?:may|can|should|"
    r"shall)\s+)?(?:share|have|use)s?\s+(?:the same|an?|one)\s+(?P<c>[\w-]+(?: [\w-]+)?)|"
    rf"(?<![\w'\u2019])(?P<d>{FIELD_PHRASE}){_WHICH}\s+(?:is|are)\s+(?:always\s+)?(?:unique|distinct)|"
    rf"(?<![\w'\u2019])(?P<e>{FIELD_PHRASE})\s*\(\s*unique\s*\)", re.IGNORECASE)


def _unique(c: Collector, start: int, sentence: str) -> None:
    near = c.r.near(start, start + len(sentence))
    for m in _UNIQUE.finditer(sentence):
        phrase = next(g for g in m.groups() if g)
        entity, field = c.r.owner_and_field(phrase, near)
        if not field:
            continue
        if field == entity or (entity and field in {singular(entity), plural(entity)}):
            continue
        c.add(RequirementKind.rule, start + m.start(), start + m.end(), ("unique", entity, field),
              rule=RuleKind.uniqueness, entity=entity, field=field,
              summary=f"{entity}.{field} is unique")


_OVERLAP = re.compile(r"double[- ]?book(?:ed|ing)?|overlap\w*|(?:booked|reserved|scheduled|taken)"
                      r" twice|at the same time|clash\w*|conflict\w*", re.IGNORECASE)


def _schedulable(name: str) -> bool:
    return name.split("_")[-1] in words("schedulable_entities") | {"booking", "reservation",
                                                                    "appointment", "shift"}


def _no_overlap(c: Collector, start: int, sentence: str) -> None:
    m = _OVERLAP.search(sentence)
    if not m:
        return
    near = c.r.in_range(start, start + len(sentence))
    booked = [x.entity for x in near if _schedulable(x.entity)]
    others = [x.entity for x in near if not _schedulable(x.entity)]
    if not booked:
        booked = [e for e in c.r.entities if _schedulable(e)]
    entity = booked[0] if booked else (near[0].entity if near else None)
    resource = next((o for o in others if o != entity), None)
    c.add(RequirementKind.rule, start, start + len(sentence), ("overlap", entity),
          rule=RuleKind.no_overlap, entity=entity, params={"resource": resource},
          summary=f"no two {entity} rows overlap in time" + (f" for the same {resource}"
                                                             if resource else ""))


_CAPACITY = re.compile(r"\b(?:capacity|at most|no more than|up to|maximum of|a maximum|max(?:imum)?"
                       r" of|limit of|limited to|cannot exceed|can't exceed|is full|are full)\b"
                       r"(?:\s+(?:of|at|with)?\s*(?P<n>\d+)(?:\s+(?P<counted>[a-z][\w-]*))?)?",
                       re.IGNORECASE)


def _limits_a_field(c: Collector, sentence: str) -> bool:
    """ "A parcel's weight must be no more than 20": the limit is a range on a record's field, not
    a count of rows."""
    m = _RANGE.search(sentence)
    if m is None:
        return False
    _, field = c.r.owner_and_field(m.group("f") or m.group("f2") or m.group("f3"), [])
    return bool(field) and field not in c.r.entities and any(
        field in fields for fields in c.r.fields.values())


# "... per member", "for each shuttle", "in any one class": the record the limit counts under
_PER = re.compile(r"^\s*(?:[a-z]+\s+){0,2}?(?:per|for each|for every|in each|in every|in any one|"
                  r"on each|at each|each)\s+(?:a\s+|an\s+|one\s+|single\s+)?$", re.IGNORECASE)


def _container_and_counted(c: Collector, start: int, sentence: str, m: re.Match,
                           near: list) -> tuple[str, str | None]:
    """ (the record that holds the rows, the rows it holds): "a class holds up to 20 students",
    "no more than 3 bookings per member", "an event is limited to 50 registrations" (after
    another clause about them). The rows counted are those named right after the number; the
    holder is the clause's own subject before the limit, else the record "per" names."""
    limit_at, number_end = start + m.start(), start + (m.end("n") if m.group("n") else m.end())
    counted_at = next((x for x in near if number_end <= x.start and re.fullmatch(
        r"\s*(?:[a-z]+\s+)?", c.r.text[number_end:x.start], re.IGNORECASE)), None)
    if counted_at is None:
        container = near[0].entity
        return container, next((x.entity for x in near[1:] if x.entity != container), None)
    # the subject of the limit's own clause holds the rows, past any comma: "a nurse sees at most
    # 12 patients per shift" counts a nurse's patients, the shift only a window of time
    clause_start = max(start, c.r.text.rfind(",", start, limit_at) + 1)
    subject = [x for x in near if clause_start <= x.start and x.end <= limit_at
               and x.entity != counted_at.entity]
    if subject:
        return subject[0].entity, counted_at.entity
    # no subject: the record "per" names ("no more than 3 bookings per member")
    per = next((x for x in near if x.start >= counted_at.end and x.entity != counted_at.entity
                and _PER.match(c.r.text[counted_at.end:x.start])), None)
    if per is not None:
        return per.entity, counted_at.entity
    other = [x for x in near if x.entity != counted_at.entity and x.end <= limit_at]
    if other:
        return other[-1].entity, counted_at.entity
    return near[0].entity, next((x.entity for x in near if x.entity != near[0].entity), None)


def _capacity(c: Collector, start: int, sentence: str) -> None:
    m = _CAPACITY.search(sentence)
    if not m:
        return
    low = sentence.lower()
    if re.search(r"\b(characters?|chars?|letters?|words?|mb|kb|gb|files?|photos?|images?)\b",
                 low[m.end():m.end() + 25]) or _LENGTH_UNIT.fullmatch(m.group("counted") or ""):
        return  # "limited to 120 characters": a text's length, not a count of rows
    n = m.group("n")
    if n is None and m.group().lower() == "capacity" and re.search(
            r"\b(?:a|the|its|their)\s+capacity$", sentence[:m.end()], re.IGNORECASE):
        return  # "each event has a title and a capacity": a field listed, not a limit
    if _limits_a_field(c, sentence):
        return
    near = c.r.in_range(start, start + len(sentence))
    if not near:
        return
    container, counted = _container_and_counted(c, start, sentence, m, near)
    if counted is None and m.group("counted") and singular(m.group("counted").lower()) != m.group(
            "counted").lower():
        # "a course is full at 30 students": the rows counted, even when no record keeps them
        # (the catalog then reports the limit as not built)
        counted = singular(m.group("counted").lower())
    c.add(RequirementKind.rule, start, start + len(sentence), ("capacity", container),
          rule=RuleKind.capacity, entity=counted or container,
          params={"container": container, "limit": int(n) if n else None},
          summary=f"a {container} takes no more {counted or 'rows'} than its capacity")


_DATE_ORDER = re.compile(
    r"(?P<a>[\w-]+(?: [\w-]+)?)\s+(?:date\s+|time\s+)?(?P<modal>must not|should not|must|should|"
    r"has to|cannot|can't|can not|may not|must never|can never)"
    r"\s+(?:be\s+|come\s+|fall\s+)?(?P<rel>after|before|later than|earlier than|on or after|"
    r"precede)\s+(?:the\s+)?(?P<b>[\w-]+(?: [\w-]+)?)", re.IGNORECASE)
_AFTER = {"after", "later than", "on or after"}
_NEGATED = {"must not", "should not", "cannot", "can't", "can not", "may not", "must never", "can never"}
# "a course ends after it starts", "each shift finishes after it begins"
_ENDS_AFTER_START = re.compile(
    r"\b(?:ends?|finish(?:es)?|closes?)\s+(?:only\s+)?after\s+(?:it|they)\s+(?:starts?|begins?|opens?)\b",
    re.IGNORECASE)


def _dated_forms(name: str) -> list[str]:
    return [f"{name}_date", f"{name}_time", f"{name}_at"]


def _dated_field(c: Collector, entity: str | None, name: str) -> str:
    """ "the return date" read as "return": the record's own return_date when it has one."""
    fields = c.r.fields.get(entity or "", [])
    return name if name in fields else next((f for f in _dated_forms(name) if f in fields), name)


def _date_order(c: Collector, start: int, sentence: str) -> None:
    for m in _DATE_ORDER.finditer(sentence):
        a, b = _field_name(m.group("a")), _field_name(m.group("b"))
        if not a or not b or not re.search(r"date|time|day|start|end|begin|finish|return|due|"
                                           r"check|arriv|depart|leav|expir", a + b):
            continue
        near = c.r.near(start, start + len(sentence))
        entity = next(filter(None, (c.r.entity_with_field(f, near) for f in (
            a, b, *_dated_forms(a), *_dated_forms(b)))), None)
        a, b = _dated_field(c, entity, a), _dated_field(c, entity, b)
        # "the return date cannot be before the pickup date": a negated "before" orders as "after"
        a_later = (m.group("rel").lower() in _AFTER) != (m.group("modal").lower() in _NEGATED)
        c.add(RequirementKind.rule, start + m.start(), start + m.end(), ("order", entity, a, b),
              rule=RuleKind.date_order, entity=entity,
              params={"later": a if a_later else b, "earlier": b if a_later else a},
              summary=f"{entity}: {m.group('a')} {m.group('modal')} {m.group('rel')} {m.group('b')}")
    for m in _ENDS_AFTER_START.finditer(sentence):
        near = [x for x in c.r.near(start, start + len(sentence)) if x.start <= start + m.start()]
        if not near:
            continue
        entity = near[-1].entity
        fields = c.r.fields.get(entity, [])
        pair = next(((e, b) for e, b in (("ends_at", "starts_at"), ("end_date", "start_date"),
                                         ("end_time", "start_time")) if e in fields and b in fields),
                    ("end_date", "start_date"))
        c.add(RequirementKind.rule, start + m.start(), start + m.end(), ("order", entity, *pair),
              rule=RuleKind.date_order, entity=entity, params={"later": pair[0], "earlier": pair[1]},
              summary=f"{entity}: {pair[0]} after {pair[1]}")


def _overdue(c: Collector, start: int, sentence: str) -> None:
    # "past their expiry date", "flagged as expired": lapsed rows are due rows of a lapse date
    m = re.search(r"\boverdue\b|\bpast (?:its |their |the )?(?:due|expiry|expiration)\b|"
                  r"\blate (?:returns?|payments?)\b|\b(?:flagged|marked|shown|listed|reported) as "
                  r"(?:expired|lapsed)\b", sentence, re.IGNORECASE)
    if not m:
        return
    near = c.r.near(start, start + len(sentence))
    entity = next((x.entity for x in near if any(is_due_field(f) for f in c.r.fields.get(x.entity, []))),
                  None)
    entity = entity or (near[0].entity if near else None)
    c.add(RequirementKind.rule, start + m.start(), start + m.end(), ("overdue", entity),
          rule=RuleKind.due_overdue, entity=entity, summary=f"overdue {entity} rows are listed")


_RANGE = re.compile(
    r"(?P<f>[\w-]+(?:['\u2019]s)?(?: [\w-]+)?)\s+(?:(?:must|should|can|may|has to|will)(?: only| always)? be|is|are|of|"
    r"goes|go|runs?)\s+"
    r"(?:(?:between|from)\s+(?P<lo>-?\d+(?:\.\d+)?)\s+(?:and|to)\s+(?P<hi>-?\d+(?:\.\d+)?)|"
    r"(?:at least|no less than|not less than|greater than or equal to)\s+(?P<min>-?\d+(?:\.\d+)?)|"
    r"(?:at most|no more than|not more than|less than or equal to)\s+(?P<max>-?\d+(?:\.\d+)?)|"
    r"(?P<pos>positive|non-negative|nonnegative|never negative|not negative))|"
    r"(?P<f3>[\w-]+(?: [\w-]+)?)\s+(?:cannot|can't|can not|may not|must not|should not|must never|"
    r"can never|never)\s+(?:exceeds?|be (?:more|greater|higher) than|go above)\s+"
    r"(?P<max3>-?\d+(?:\.\d+)?)|"
    r"(?P<f2>[\w-]+(?: [\w-]+)?)\s+(?:cannot|can't|may not|must not|can never)\s+be\s+negative", re.IGNORECASE)


# "a rating from 1 to 5", "an order line has a quantity between 1 and 99": the range said
# right after the field, without a verb
_BARE_RANGE = re.compile(
    r"\b(?:an?|the|its|their)\s+(?P<f>[\w-]+(?: [\w-]+)?)\s+(?:between|from)\s+"
    r"(?P<lo>-?\d+(?:\.\d+)?)\s+(?:and|to)\s+(?P<hi>-?\d+(?:\.\d+)?)\b", re.IGNORECASE)
_LENGTH_UNIT = re.compile(r"characters?|chars?|letters?", re.IGNORECASE)


def _ranges(c: Collector, start: int, sentence: str) -> None:
    near = c.r.near(start, start + len(sentence))
    for m in [*_RANGE.finditer(sentence), *_BARE_RANGE.finditer(sentence)]:
        if re.match(rf"\s*(?:{_LENGTH_UNIT.pattern})\b", sentence[m.end():], re.IGNORECASE):
            continue  # "a title of at most 80 characters": a length limit, read by _lengths
        groups = m.groupdict()
        entity, field = c.r.owner_and_field(groups["f"] or groups.get("f2") or groups.get("f3"), near)
        if not field or field in {"it", "they"}:
            continue
        if field in c.r.entities or field == entity:
            # "every member must be at least 18 years old": a record's age, else no field said
            if not re.match(r"\s*years?\s+(?:old|of age)", sentence[m.end():], re.IGNORECASE):
                continue
            entity = field if field in c.r.entities else entity
            field = "age"
        lo = groups["lo"] or groups.get("min") or ("0" if groups.get("pos") or groups.get("f2") else None)
        hi = groups["hi"] or groups.get("max") or groups.get("max3")
        c.add(RequirementKind.rule, start + m.start(), start + m.end(), ("range", entity, field),
              rule=RuleKind.value_range, entity=entity, field=field,
              params={"min": float(lo) if lo is not None else None,
                      "max": float(hi) if hi is not None else None},
              summary=f"{entity}.{field} within [{lo if lo is not None else '-inf'}, "
                      f"{hi if hi is not None else 'inf'}]")



# "a title of at most 80 characters", "a summary, limited to 120 characters", "a name (max 60
# characters)", "the subject must not exceed 100 characters": the longest a text may be
_LENGTH = re.compile(
    r"(?P<f>[\w-]+(?:['\u2019]s)?(?: [\w-]+)?)\s*[,(]?\s*(?:(?:which|that)\s+)?"
    r"(?:(?:is|are|must be|should be|can be|may be|has to be|of|with|must|should|can|may)\s+)?"
    r"(?P<limit>(?:limited|restricted|capped)\s+to|at most|no more than|not more than|up to|"
    r"no longer than|a maximum of|maximum|max\.?|(?:not|never|cannot|can't|must not|may not|should not)"
    r"\s+(?:exceed|be longer than|be more than|go over)|under|fewer than|less than|shorter than)\s+"
    rf"(?P<n>\d+)\s+(?:{_LENGTH_UNIT.pattern})\b", re.IGNORECASE)


def _lengths(c: Collector, start: int, sentence: str) -> None:
    near = c.r.near(start, start + len(sentence))
    for m in _LENGTH.finditer(sentence):
        entity, field = c.r.owner_and_field(m.group("f"), near)
        if not field or field in c.r.entities or field in {"it", "they"}:
            continue
        strict = re.match(r"under|fewer|less|shorter", m.group("limit"), re.IGNORECASE)
        longest = int(m.group("n")) - (1 if strict else 0)
        if longest < 1:
            continue
        c.add(RequirementKind.rule, start + m.start(), start + m.end(), ("length", entity, field),
              rule=RuleKind.length_limit, entity=entity, field=field, params={"max": longest},
              summary=f"{entity}.{field} is at most {longest} characters long")


# "an order can be cancelled while pending", "a booking may be refunded only when it is paid or
# confirmed", "only draft invoices can be voided": a move into one state allowed from some states
# alone, a guarded move of the record's status
_GUARD_STATES = r"(?!(?:not|being|already|in|on|at|the|a|an|it|they|its|their|is|are)\b)(?P<from>[a-z][\w-]*(?:(?:\s*,\s*|\s+or\s+)[a-z][\w-]*)*)"
_GUARDED = (
    re.compile(rf"\b(?:can|may|could)\s+(?:only\s+)?be\s+(?P<to>[a-z]+(?:ed|en|id))\s+(?:only\s+)?"
               rf"(?:(?:while|when|if|as long as|whilst)\s+(?:(?:it|they)\s+(?:is|are)\s+still\s+|"
               rf"(?:it|they)\s+(?:is|are)\s+|it's\s+(?:still\s+)?|still\s+)?|"
               # "after it is closed": a state it is in, never a noun ("after payment")
               rf"(?:after|once)\s+(?:it|they)\s+(?:is|are|has been|have been)\s+){_GUARD_STATES}", re.IGNORECASE),
    re.compile(rf"\bonly\s+{_GUARD_STATES}\s+(?P<rec>[a-z]+(?:\s+[a-z]+)?)\s+(?:can|may|could)\s+be\s+"
               rf"(?P<to>[a-z]+(?:ed|en|id))\b", re.IGNORECASE),
    # "a closed ticket can be reopened": a re- verb said of rows in a state moves them back
    re.compile(rf"\b(?:an?|the|any)\s+{_GUARD_STATES}\s+(?P<rec>[a-z]+(?:\s+[a-z]+)?)\s+(?:can|may|could)\s+"
               rf"(?:later\s+|still\s+|always\s+)?be\s+(?P<to>re[a-z]+ed)\b", re.IGNORECASE),
)
# a guard on editing, viewing or removing a row is a right, not a move between states
_NOT_A_STATE_VERB = {"edit", "update", "change", "modify", "view", "see", "read", "delete",
                     "remove", "rename", "open", "used", "use", "seen", "shown", "show", "found"}


def _status_of(c: Collector, entity: str) -> tuple[str, list[str], bool] | None:
    """The record's status and its states: the values the text lists for it, else the reader's."""
    listed = next((r for r in c.items if r.kind == RequirementKind.value_list and r.entity == entity
                   and (r.field or "").split("_")[-1] in _STATE_FIELDS), None)
    if listed is not None:
        return listed.field, list(listed.values), True
    spec_entity = next((e for e in c.r.spec.entities if e.name == entity), None)
    for f in spec_entity.fields if spec_entity else []:
        if f.type.value == "enum" and f.name.split("_")[-1] in _STATE_FIELDS:
            return f.name, list(f.choices), False
    return None


def guarded_action_name(target: str) -> str:
    """The endpoint that makes the move: "cancelled" -> cancel, else the state's own word."""
    from mb_core.codegen.columns import ACTIONS
    from mb_core.spec.phrases import verb_lemma

    lemma = verb_lemma(target)
    name = lemma if lemma and lemma != target else f"mark_{target}"
    return f"mark_{target}" if name in ACTIONS or name in {"transition", "assign", "report",
                                                           "export", "overdue"} else name


def _stem(said: str) -> str:
    """ "reopened" -> reopen, "resubmitted" -> resubmit: a regular past participle's verb."""
    return re.sub(r"(?:([bdgmnprt])\1)?ed$", r"\1", said.lower())


def _state_again(said: str, states: list[str]) -> str | None:
    """ "reopened", "resubmitted": the listed state a re- verb moves a row back to."""
    from mb_core.spec.phrases import verb_lemma

    lemma = verb_lemma(said) or _stem(said)
    if not lemma.startswith("re") or len(lemma) < 5 or _value(said) in states:
        return None
    base = lemma[2:]
    return next((s for s in (base, f"{base}ed", f"{base}d", f"{base}ted") if s in states), None)


def _guarded_moves(c: Collector, start: int, sentence: str) -> None:
    from mb_core.requirements.state_moves import extend_machine, machine_of

    near = c.r.near(start, start + len(sentence))
    for pattern in _GUARDED:
        for m in pattern.finditer(sentence):
            from mb_core.spec.phrases import verb_lemma

            said = m.group("to").lower()
            if (verb_lemma(said) or said) in _NOT_A_STATE_VERB or said in _NOT_A_STATE_VERB:
                continue
            guards = [_value(x) for x in re.split(r"\s*,\s*|\s+or\s+", m.group("from")) if _value(x)]
            before = [x for x in near if x.start <= start + m.start("to")]
            entity = (before[-1].entity if before else (near[0].entity if near else None))
            if entity is None or not guards:
                continue
            target = _value(said)
            index = machine_of(c, entity)
            if index is not None:  # the record's path is stated: the move is one more on it
                states = list(c.items[index].values)
                again = _state_again(said, states)
                if again is None and pattern is _GUARDED[2]:
                    continue
                action = (verb_lemma(said) or _stem(said)) if again is not None else guarded_action_name(target)
                extend_machine(c, index, [g for g in guards if g in states], again or target,
                               (start + m.start(), start + m.end()), action)
                continue
            status = _status_of(c, entity)
            again = _state_again(said, status[1] if status else [])
            if again is None and pattern is _GUARDED[2]:
                continue  # only a move back to a state the record has
            if again is not None:  # "can be reopened after it is closed": back to open
                target = again
            if status is not None and status[2]:
                field, states, _ = status
                if target not in states or not set(guards) <= set(states):
                    continue  # the states the text lists do not hold these: no move between them
            else:  # the text implies the states: those the reader gave, the guards, the target
                field, states = (status[0], status[1]) if status else ("status", [])
                states = list(dict.fromkeys([*states, *guards, target]))
            if target in guards or len(states) < 2:
                continue
            transitions = {s: [t for t in states if t != s and (t != target or s in guards)]
                           for s in states}
            action = (verb_lemma(said) or _stem(said)) if again is not None else guarded_action_name(target)
            c.add(RequirementKind.rule, start + m.start(), start + m.end(), ("sm", entity),
                  rule=RuleKind.state_machine, entity=entity, field=field, values=states,
                  params={"transitions": transitions,
                          "actions": {action: {"from": guards, "to": target}}},
                  summary=f"{entity}.{field}: {target} only from {' or '.join(guards)} "
                          f"(POST {action}; other moves free)")
