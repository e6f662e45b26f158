"""Work done on a record by people: approve/reject, assign, check in/out, borrow/return.
"""

from __future__ import annotations

import re

from mb_core.models import RequirementKind
from mb_core.requirements.extract import PARTY_HEADS, Collector
from mb_core.spec.vocabulary import words

_WORKFLOW = re.compile(r"\b(?P<w>approv\w*|reject\w*|assign\w*|check(?:ed|s)?[- ](?:in|out)|"
                       r"check(?:ed|s|ing)?\s+(?:(?!in\b|out\b)[a-z]+\s+){1,3}?(?:in|out)\b|"
                       r"borrow\w*|return\w*)\b", re.IGNORECASE)


def _workflows(c: Collector, start: int, sentence: str) -> None:
    near = c.r.in_range(start, start + len(sentence))
    for m in _WORKFLOW.finditer(sentence):
        w = m.group("w").lower()
        action = ("approve_reject" if w.startswith(("approv", "reject")) else "assign"
                  if w.startswith("assign") else "check_in_out" if w.startswith("check")
                  else "borrow_return")
        if action == "borrow_return" and not re.search(r"\b(borrow\w*|lend\w*|loan\w*|check\w* out)\b",
                                                       sentence, re.IGNORECASE):
            continue
        after = [x for x in near if x.start >= start + m.end()]
        before = [x for x in near if x.end <= start + m.start()]
        if action == "assign" and any(not _is_person_entity(x.entity) and re.search(
                r"\bto\s+(?:a |an |the |one )?$", c.r.text[start + m.end():x.start], re.IGNORECASE) for x in after):
            continue  # "assign transactions to categories": a relation, not work given to people
        inside = [x for x in near if x.start >= start + m.start() and x.end <= start + m.end()]
        # "check bookings in": the record sits inside the phrasal verb
        target = inside[0] if inside else (before[-1] if action == "assign" and before else (
            after[0] if after else (before[-1] if before else None)))
        entity = target.entity if target else None
        if action == "assign" and after and before and _is_person_entity(after[0].entity):
            entity = before[-1].entity
        c.add(RequirementKind.workflow, start + m.start(), start + m.end(), ("wf", action, entity),
              entity=entity, params={"action": action},
              summary=f"{action.replace('_', '/')} {entity}")


def _is_person_entity(name: str) -> bool:
    return name.split("_")[-1] in words("person_entities") | PARTY_HEADS

