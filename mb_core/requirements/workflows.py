"""Work done on a record by people: approve/reject, assign, check in/out, borrow/return, and who
does it ("only managers may approve claims", "claims are approved by a manager"): the named
actions then belong to that role.
"""

from __future__ import annotations

import re

from mb_core.models import RequirementKind
from mb_core.requirements.extract import PARTY_HEADS, Collector
from mb_core.requirements.rights import _MODAL, _antecedent, _role_name
from mb_core.spec.naming import singular
from mb_core.spec.vocabulary import words

_WORKFLOW = re.compile(r"\b(?P<w>approv\w*|reject\w*|declin\w*|sign(?:s|ed|ing)?[- ]off|assign\w*|check(?:ed|s)?[- ](?:in|out)|"
                       r"check(?:ed|s|ing)?\s+(?:(?!in\b|out\b)[a-z]+\s+){1,3}?(?:in|out)\b|"
                       r"borrow\w*|return\w*|"
                       # publishing and archiving as work done, never a state named on a path
                       # ("moves from draft to published") or a record's adjective ("published posts")
                       r"publish(?:es|ing)?|(?:is|are|be|been|get|gets|getting)\s+(?:\w+ly\s+)?published|"
                       r"(?<!\ban )(?<!\bthe )archiv(?:e|es|ing)|(?:is|are|be|been|get|gets|getting)\s+"
                       r"(?:\w+ly\s+)?archived)\b", re.IGNORECASE)


def _workflows(c: Collector, start: int, sentence: str) -> None:
    near = c.r.in_range(start, start + len(sentence))
    done: set[str] = set()
    # a verb of the work read as a record ("return") is never the record worked on
    near = [x for x in near if not _WORKFLOW.fullmatch(c.r.text[x.start:x.end])]
    for m in _WORKFLOW.finditer(sentence):
        w = m.group("w").lower()
        action = ("approve_reject" if w.startswith(("approv", "reject", "declin", "sign")) else "assign"
                  if w.startswith("assign") else "check_in_out" if w.startswith("check")
                  else "publish" if "publish" in w else "archive" if "archiv" in w else "borrow_return")
        if action == "approve_reject" and re.search(r"\b(?:from|to|then|into)\s+$", sentence[:m.start()],
                                                    re.IGNORECASE):
            continue  # "moves from requested to approved": a state of a path, not the work
        if w.startswith("declin") and not re.search(r"\b(?:approv|accept)\w*", sentence, re.IGNORECASE):
            continue  # "decline" alone is rarely a decision on a record
        if action == "borrow_return" and not re.search(r"\b(borrow\w*|lend\w*|loan\w*|check\w* out)\b",
                                                       sentence, re.IGNORECASE):
            continue
        after = [x for x in near if x.start >= start + m.end()]
        if action == "approve_reject":  # "approved by a manager": who decides, not what is decided
            after = [x for x in after if not re.search(r"\bby\s+(?:an?\s+|the\s+|their\s+)?$",
                                                       c.r.text[start + m.end():x.start], re.IGNORECASE)]
        before = [x for x in near if x.end <= start + m.start()]
        people_first = bool(after) and _is_people(after[0].entity)
        if action == "assign" and not people_first and any(not _is_person_entity(x.entity) and re.search(
                r"\bto\s+(?:a |an |the |one )?$", c.r.text[start + m.end():x.start], re.IGNORECASE) for x in after):
            continue  # "assign transactions to categories": a relation, not work given to people
        if action == "assign" and people_first:
            # "dispatchers assign drivers to deliveries": the people go to the record after "to"
            given = next((x for x in after[1:] if not _is_person_entity(x.entity) and re.search(
                r"\bto\s+(?:a |an |the |each |one )?$", c.r.text[after[0].end:x.start], re.IGNORECASE)), None)
            if given is not None:
                after = [given]
                before = []
        inside = [x for x in near if x.start >= start + m.start() and x.end <= start + m.end()]
        # "check bookings in": the record sits inside the phrasal verb
        target = inside[0] if inside else (before[-1] if action == "assign" and before else (
            after[0] if after else (before[-1] if before else None)))
        if action in done and action != "assign":
            continue  # "borrow a tool and return it": one workflow, read at its first verb
        done.add(action)
        # the right the rights reader gave the clause's subject names the role as it does
        subject = [r.role for r in c.items if r.kind == RequirementKind.role and r.role
                   and start <= r.span.start < start + m.start()]
        performer = subject[-1] if subject else _performer(c, sentence[:m.start()], sentence[m.end():])
        if action in ("borrow_return", "check_in_out") and not inside:
            # the thing borrowed is the verb's object, never the borrower: "members borrow tools"
            target = next((x for x in after if x.entity != performer and not re.search(
                r"\bby\s+(?:an?\s+|the\s+)?$", c.r.text[start + m.end():x.start], re.IGNORECASE)), None)
            if target is None and before and before[-1].entity != performer:
                target = before[-1]  # "tools can be borrowed by members": the passive's subject
            if target is None and action == "check_in_out" and before and _INTRANSITIVE.match(
                    sentence[m.end():]):
                target = before[-1]  # "guests check in and check out": the people themselves
            if target is None:
                noun = _OBJECT.match(sentence[m.end():])
                if noun is None or noun.group("noun").lower() in _NOT_OBJECTS:
                    noun = _PASSIVE_SUBJECT.match(sentence)  # "ladders can be borrowed"
                entity = singular(noun.group("noun").lower()) if noun else None
                c.add(RequirementKind.workflow, start + m.start(), start + m.end(), ("wf", action, entity),
                      entity=entity, params={"action": action},
                      summary=f"{action.replace('_', '/')} {entity} (a record the reader did not find)")
                continue
        entity = target.entity if target else None
        if entity is None and action == "approve_reject":
            # "Approvals are done by a supervisor": the work on the record the text spoke of last
            entity = next(iter(_antecedent(c, start + m.start())), None)
        if action == "assign" and after and before and _is_person_entity(after[0].entity):
            entity = before[-1].entity
        params = {"action": action, **({"roles": [performer]} if performer and action != "assign" else {})}
        c.add(RequirementKind.workflow, start + m.start(), start + m.end(), ("wf", action, entity),
              entity=entity, params=params,
              summary=f"{action.replace('_', '/')} {entity}" + (f" by {performer}" if performer else ""))


# what stands between the people and the verb: "may", "can only", "check and" ("check and approve")
_BETWEEN = re.compile(rf"(?:\s+(?:{_MODAL}|only|also|then|(?:is|are)\s+(?:in charge of|responsible for|"
                      rf"tasked with)|(?:[a-z]+\s*,\s*)*[a-z]+\s+(?:and|or)))*\s*$",
                      re.IGNORECASE)
# "... by <people>" after the verb
_BY = re.compile(r"^[^,.;]*?\bby\s+(?:an?\s+|the\s+|their\s+|its\s+)?(?P<who>[A-Za-z]+(?: [A-Za-z]+)?)",
                 re.IGNORECASE)
# nothing after "check in" is its object: the subject checks itself in
_INTRANSITIVE = re.compile(r"\s*(?:$|,|(?:and|or|at|on|when|upon|after|before|online|early|late|"
                           r"again|here|there|via|through|with)\b)", re.IGNORECASE)
_NOT_OBJECTS = {"and", "out", "back", "again", "later", "them", "the", "their", "when", "after",
                "before", "within", "once", "only", "any"}
_PASSIVE_SUBJECT = re.compile(r"\s*(?:the\s+|an?\s+|all\s+|our\s+)?(?P<noun>[a-z]{3,})\s+(?:are|is|can be|"
                              r"may be|will be|must be|get|gets)\b", re.IGNORECASE)
_OBJECT = re.compile(r"\s+(?:and\s+[a-z]+\s+)?(?:an?\s+|the\s+|their\s+)?(?P<noun>[a-z]{3,})\b",
                     re.IGNORECASE)


def _performer(c: Collector, before: str, after: str) -> str | None:
    """The role that does the work, when the sentence names one."""
    head = before[:_BETWEEN.search(before).start()].split()[-2:]
    for who in (" ".join(head), *head[-1:]):
        role = _role_name(c, who, True)
        if role:
            return role
    m = _BY.match(after)
    if m:  # "by an inspector": one person, an agent noun in the singular
        for who in (m.group("who"), m.group("who").split()[0]):
            role = _role_name(c, who, True) or _role_name(c, f"{who}s", True)
            if role:
                return role
    return None


# job titles of the people work is given to, besides the vocabulary's people
_STAFF_TITLES = frozenset({"developer", "engineer", "designer", "analyst", "inspector", "planner",
                           "adviser", "advisor", "officer", "clerk", "specialist", "assistant",
                           "auditor", "surveyor", "handler", "installer", "cleaner", "mechanic"})


def _is_people(name: str) -> bool:
    """Records of people work may be given to: "assign drivers to deliveries"."""
    return _is_person_entity(name) or name.split("_")[-1] in words("person_nouns") | _STAFF_TITLES


def _is_person_entity(name: str) -> bool:
    return name.split("_")[-1] in words("person_entities") | PARTY_HEADS

