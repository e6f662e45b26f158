"""Roles and what each may do: "<people> can <verbs> <records>" gives a role the actions its verbs
name on the records the sentence names.
"""

from __future__ import annotations

import re

from mb_core.models import Action, RequirementKind
from mb_core.requirements.extract import _GENERIC, _PEOPLE, Collector
from mb_core.spec.naming import singular

_VERB_ACTIONS: dict[str, set[Action]] = {}
for _verbs, _actions in (
    (("add create submit book register log record enter open place make file post write raise "
     "request schedule reserve upload issue"), {Action.create}),
    ("view see read browse list look check search find read review track", {Action.read}),
    (("edit update change modify approve reject assign close resolve move rename reassign "
     "complete confirm mark borrow lend return"), {Action.update}),
    ("delete remove cancel archive discard", {Action.delete}),
    ("manage administer maintain run own control", set(Action)),
):
    for _verb in _verbs.split():
        _VERB_ACTIONS[_verb] = _actions

_MODAL = (r"(?:can|may|are able to|is able to|should be able to|must be able to|get to|will|"
          r"are allowed to|is allowed to|are permitted to|is permitted to|need to|needs to|"
          r"have to|has to|must|should|shall)")
_DENY = (r"(?:cannot|can't|can not|may not|must not|mustn't|should not|shouldn't|shall not|"
         r"will not|won't|are not allowed to|is not allowed to|are not able to|is not able to|"
         r"are not permitted to|never|do not|does not|don't|doesn't)")
# items joined by a comma or by "and"/"or" as whole words ("record" holds an "or", "handle" an "and")
_VERBS = r"[a-z]+(?:(?:\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+)[a-z]+)*"
# "<people> [can|cannot] [only] <verbs> [<records> ...]", tried at every word (the subject may be
# one or two words: "sales reps", "warehouse staff")
_ROLES = tuple(re.compile(
    rf"(?=\b(?P<role>{subject})\s+(?:(?P<deny>{_DENY})\s+|{_MODAL}\s+)?"
    rf"(?P<only>only\s+)?(?P<verbs>{_VERBS})\b(?P<rest>[^.;]*))", re.IGNORECASE)
    for subject in (r"[A-Za-z]+", r"[A-Za-z]+ [A-Za-z]+"))
# where the records of the right end: the next clause about someone else, or a "but not ..."
_REST_END = re.compile(rf"\b(?:but|except|while|whereas|yet)\b|,\s*(?:and\s+)?(?:only\s+)?"
                       rf"[a-z]+(?: [a-z]+)?\s+(?:{_MODAL}|{_DENY})\b", re.IGNORECASE)
_BUT_NOT = re.compile(rf"\b(?:but|and|yet)\s+(?:{_DENY}|not)\s+(?:be able to\s+)?(?P<verbs>{_VERBS})",
                      re.IGNORECASE)
_EVERYTHING = {"everything", "anything", "all", "records", "data", "it", "them", "the", "only",
               "every", "record", "entries", "information"}
# agent nouns of English: a plural subject of a modal ending so is a kind of person
_AGENT = re.compile(r"[a-z]{3,}(?:ers|ors|ists|ians|ants|ents|ees|iers|eers)$")


def _verb_actions(phrase: str) -> set[Action]:
    actions: set[Action] = set()
    for verb in (v for v in re.split(r"\s*,\s*|\s+(?:and|or)\s+|\s+", phrase.lower().strip()) if v):
        actions |= _VERB_ACTIONS.get(verb, set()) | _VERB_ACTIONS.get(singular(verb), set()) | (
            _VERB_ACTIONS.get(verb[:-1], set()) if verb.endswith("s") else set())
    return actions


def _role_name(c: Collector, phrase: str, modal: bool) -> str | None:
    """The role a subject names ("sales reps" -> sales_rep, "Only managers" -> manager), or None
    when it is not people (records, pronouns, people in general)."""
    parts = [w for w in phrase.lower().split() if w not in {"only", "the", "all", "our", "any"}]
    if not parts:
        return None
    head = parts[-1]
    one = singular(head)
    if len(parts) == 2 and f"{parts[0]} {one}" in _PEOPLE:
        return f"{parts[0]}_{one}"
    if head in _GENERIC or one in _GENERIC:
        return None
    known = {r.name for r in c.r.spec.roles}
    if head in _PEOPLE or one in _PEOPLE or one in known:
        return one
    if modal and _AGENT.match(head) and one not in c.r.entities:
        return one
    return None


def _roles(c: Collector, start: int, sentence: str) -> None:
    for m in (m for pattern in _ROLES for m in pattern.finditer(sentence)):
        modal = bool(re.match(rf"\s*(?:{_MODAL}|{_DENY})\b", sentence[m.end("role"):], re.IGNORECASE))
        role = _role_name(c, m.group("role"), modal)
        if role is None:
            continue
        actions = _verb_actions(m.group("verbs"))
        if re.fullmatch(r"check(?:s|ed)?", m.group("verbs").lower()) and re.match(
                r"\s+(?:[a-z]+\s+){0,3}?(?:in|out)\b", m.group("rest"), re.IGNORECASE):
            actions = {Action.update}  # "check bookings in and out" moves them on, not reads them
        if not actions:
            continue
        denied: set[Action] = set()
        if m.group("deny"):
            actions, denied = set(), actions
        rest = m.group("rest")
        cut = _REST_END.search(rest)
        but = _BUT_NOT.search(rest)
        refusal_end = None
        if but and (cut is None or but.start() <= cut.start() + 4):
            denied |= _verb_actions(but.group("verbs"))
            refusal_end = start + m.start("rest") + but.end()  # the span holds the refusal too
        if m.group("only"):
            denied |= set(Action) - actions
        denied -= actions
        rest_start = start + m.start("rest")
        rest_end = rest_start + len(rest[:cut.start() if cut else len(rest)].rstrip(" ,"))
        objects = [x.entity for x in c.r.in_range(rest_start, rest_end)]
        if not objects and set(re.findall(r"[a-z]+", rest[:cut.start() if cut else len(rest)]
                                          .lower())) <= _EVERYTHING:
            objects = ["*"]
        span_end = rest_end if objects != ["*"] else start + m.end("verbs")
        if refusal_end is not None:
            span_end = max(span_end, refusal_end)
        for entity in dict.fromkeys(objects):
            if entity == role:
                continue
            ordered = sorted(actions, key=list(Action).index)
            refused = sorted(denied, key=list(Action).index)
            what = "every record" if entity == "*" else entity
            c.add(RequirementKind.role, start + m.start("role"), span_end, ("role", role, entity),
                  role=role, entity=entity, actions=ordered,
                  params={"denied": [a.value for a in refused]} if refused else {},
                  summary=f"{role} may {', '.join(a.value for a in ordered) or 'not'} {what}"
                          + (f" (not {', '.join(a.value for a in refused)})" if refused else ""))
