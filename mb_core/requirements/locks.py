"""Rows that may no longer be changed once they reach a state: "once an invoice is paid it can no
longer be edited", "submitted timesheets cannot be modified", "shipped orders are read-only", "a
booking is locked after it is confirmed". The record's status then refuses edits in that state.
"""

from __future__ import annotations

import re

from mb_core.models import RequirementKind, RuleKind
from mb_core.requirements.constraints import _status_of
from mb_core.requirements.extract import Collector, _value
from mb_core.spec.naming import with_article

_EDITED = r"(?:edited|changed|modified|updated|altered|amended|touched)"
# what says a row may not be changed: a refused edit, or a word for a row that is fixed
_FIXED = re.compile(
    rf"\b(?:can\s+no\s+longer|may\s+no\s+longer|must\s+no\s+longer|cannot|can't|can\s+not|may\s+not|"
    rf"must\s+not|mustn't|should\s+not|shouldn't|will\s+not|won't|are\s+not\s+to|is\s+not\s+to|"
    rf"can\s+never|may\s+never|must\s+never)\s+(?:be\s+|get\s+)(?:further\s+)?{_EDITED}\b|"
    r"\b(?:is|are|become|becomes|get|gets|stays?|remains?)\s+(?:then\s+)?(?:read[- ]only|locked|frozen|"
    r"final|immutable|uneditable|non-editable|not\s+editable)\b|"
    r"\bno\s+(?:more\s+|further\s+)?(?:changes|edits)\s+(?:are|is|can\s+be|may\s+be)\s+"
    r"(?:allowed|permitted|made|accepted)\b", re.IGNORECASE)
# the state that fixes it: "once/after/when <record> is <state>", "once <state>", or a state said
# of the record before its name ("paid invoices", "a submitted timesheet")
_ONCE = re.compile(r"\b(?:once|after|when|whenever|as soon as|from the moment)\s+(?:(?:an?|the|its|their|"
                   r"each|every)\s+)?(?:[a-z]+\s+){0,2}?(?:(?:is|are|has been|have been|gets|get|was|"
                   r"were)\s+)(?:marked\s+(?:as\s+)?)?(?P<state>[a-z][\w-]*)|"
                   r"\b(?:once|after|when|whenever)\s+(?:marked\s+(?:as\s+)?)?(?P<bare>[a-z]+(?:ed|en|id))\b",
                   re.IGNORECASE)


def _edit_locks(c: Collector, start: int, sentence: str) -> None:
    fixed = _FIXED.search(sentence)
    if fixed is None:
        return
    near = c.r.in_range(start, start + len(sentence))
    if not near:
        return
    entity = near[0].entity
    status = _status_of(c, entity)
    states = status[1] if status else []
    said: list[str] = []
    for m in _ONCE.finditer(sentence):
        said.append(_value(m.group("state") or m.group("bare")))
    # "paid invoices", "approved samples", "a submitted timesheet": the word before the record
    first = near[0]
    before = re.search(r"([a-z][\w-]*)\s*$", c.r.text[start:first.start], re.IGNORECASE)
    if before is not None:
        said.append(_value(before.group(1)))
    wanted = [s for s in dict.fromkeys(said) if s in states] if states else [
        s for s in dict.fromkeys(said) if re.fullmatch(r"[a-z]+(?:ed|en|id)", s)]
    if not wanted:
        return
    c.add(RequirementKind.rule, start, start + len(sentence), ("lock", entity, *wanted),
          rule=RuleKind.edit_lock, entity=entity, field=status[0] if status else "status",
          values=wanted, summary=f"{with_article(entity.replace('_', ' '))} that is {' or '.join(wanted)} may no "
                                 f"longer be changed (409)")
