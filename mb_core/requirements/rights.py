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
     "complete confirm mark"), {Action.update}),
    ("delete remove cancel archive discard", {Action.delete}),
    ("manage administer maintain run own control", set(Action)),
):
    for _verb in _verbs.split():
        _VERB_ACTIONS[_verb] = _actions

_MODAL = r"(?:can|may|are able to|is able to|should be able to|must be able to|get to|will)"
_ROLE = re.compile(rf"\b(?:only\s+)?(?P<role>[A-Za-z]+)\s+(?:(?:{_MODAL})\s+(?:only\s+)?)?"
                   r"(?P<verbs>[a-z]+(?:\s*(?:,|and|or|,\s*and|,\s*or)\s*[a-z]+)*)\s+(?P<rest>[^.;]*)",
                   re.IGNORECASE)


def _roles(c: Collector, start: int, sentence: str) -> None:
    for m in _ROLE.finditer(sentence):
        role_word = m.group("role").lower()
        if role_word in _GENERIC or role_word not in _PEOPLE and singular(role_word) not in {
                r.name for r in c.r.spec.roles}:
            continue
        verbs = [v for v in re.split(r"\s*(?:,|and|or)\s*", m.group("verbs").lower()) if v]
        actions: set[Action] = set()
        for verb in verbs:
            actions |= _VERB_ACTIONS.get(verb, set()) | _VERB_ACTIONS.get(singular(verb), set()) | (
                _VERB_ACTIONS.get(verb[:-1], set()) if verb.endswith("s") else set())
        if not actions:
            continue
        rest_start = start + m.start("rest")
        objects = [x.entity for x in c.r.in_range(rest_start, start + m.end())]
        role = singular(role_word)
        for entity in dict.fromkeys(objects):
            if entity == role:
                continue
            ordered = sorted(actions, key=list(Action).index)
            c.add(RequirementKind.role, start + m.start(), start + m.end(), ("role", role, entity),
                  role=role, entity=entity, actions=ordered,
                  summary=f"{role} may {', '.join(a.value for a in ordered)} {entity}")

