"""Moves a text adds to a record's status path after stating it: a step back ("can be sent back
to draft from review"), a way out before a state ("can be cancelled before it is shipped"), a
record reopened. Each extends the one state machine the record has, so the path and its extra
moves are built together; a move on a record with no known states is left to the unread report.
"""

from __future__ import annotations

import re

from mb_core.models import RequirementKind, RuleKind
from mb_core.requirements.extract import Collector, _value

_STATE = r"[a-z][\w-]*(?: (?!(?:from|to|then|or|and|by|when|while|if|after|before|once|again)\b)[a-z][\w-]*)?"
# "can be sent back to draft (from review)", "may go back to review", "returns to draft"
_BACK = re.compile(
    rf"\b(?:sent|moved|put|returned|set|reverted|turned|go|goes|move|moves|send|sends|return|returns|"
    rf"revert|reverts|fall|falls)\s+back\s+(?:in)?to\s+(?:the\s+)?(?:(?:status|state|stage)\s+)?"
    rf"(?P<to>{_STATE})(?:\s+(?:from|while in|when in|if in|when it is in|while it is in|once in)\s+"
    rf"(?:the\s+)?(?P<src>{_STATE}))?|\b(?:revert|reverts|reverted)\s+to\s+(?:the\s+)?(?P<to2>{_STATE})",
    re.IGNORECASE)
# "an order can be cancelled before it is shipped", "... until it ships"
_BEFORE = re.compile(
    r"\b(?:can|may|could)\s+(?:only\s+|still\s+)?be\s+(?P<to>[a-z]+(?:ed|en|id))\s+(?:only\s+)?"
    r"(?:before|until)\s+(?:it|they)\s+(?:(?:is|are|has been|have been|gets?|get)\s+)?(?P<at>[a-z]+)\b",
    re.IGNORECASE)


def machine_of(c: Collector, entity: str | None) -> int | None:
    """The index of the record's state machine among the requirements read so far."""
    return next((i for i, r in enumerate(c.items) if r.kind == RequirementKind.rule
                 and r.rule == RuleKind.state_machine and r.entity == entity), None)


def extend_machine(c: Collector, index: int, sources: list[str], target: str, span: tuple[int, int],
                   action: str | None = None) -> bool:
    """Add the moves sources -> target (and target as a state, with no way on) to the machine."""
    req = c.items[index]
    states = list(req.values)
    if not sources or not set(sources) <= set(states) or target in sources:
        return False
    transitions = {s: list(t) for s, t in (req.params.get("transitions") or {}).items()}
    if target not in states:
        states.append(target)
    for src in sources:
        transitions.setdefault(src, [])
        if target not in transitions[src]:
            transitions[src].append(target)
    params = {**req.params, "transitions": transitions}
    if action:
        params["actions"] = {**(req.params.get("actions") or {}), action: {"from": sources, "to": target}}
    c.items[index] = req.model_copy(update={
        "values": states, "params": params,
        "summary": f"{req.entity}.{req.field} moves only " + "; ".join(
            f"{a} -> {', '.join(b)}" for a, b in transitions.items() if b)})
    c.understood.append(span)
    return True


def _state_named(word: str, states: list[str]) -> str | None:
    """ "shipped", "ships", "ship" -> the listed state shipped."""
    from mb_core.requirements.constraints import _stem
    from mb_core.spec.phrases import verb_lemma

    word = _value(word)
    if word in states:
        return word
    lemma = verb_lemma(word) or re.sub(r"(?:es|s)$", "", word)
    return next((s for s in states if _stem(s) in {lemma, word} or (verb_lemma(s) or "") == lemma), None)


def _entity_before(c: Collector, start: int, sentence: str, at: int) -> str | None:
    near = c.r.near(start, start + len(sentence))
    before = [x for x in near if x.start <= start + at]
    return before[-1].entity if before else (near[0].entity if near else None)


def _back_moves(c: Collector, start: int, sentence: str) -> None:
    for m in _BACK.finditer(sentence):
        index = machine_of(c, _entity_before(c, start, sentence, m.start()))
        if index is None:
            continue
        req = c.items[index]
        states = list(req.values)
        target = _state_named(m.group("to") or m.group("to2"), states)
        if target is None:
            continue
        src = _state_named(m.group("src"), states) if m.group("src") else None
        # without "from": back from the states the path moves the target on to
        sources = [src] if src else list((req.params.get("transitions") or {}).get(target) or [])
        extend_machine(c, index, sources, target, (start + m.start(), start + m.end()))


def _moves_before(c: Collector, start: int, sentence: str) -> None:
    from mb_core.requirements.constraints import _NOT_A_STATE_VERB, _status_of, guarded_action_name
    from mb_core.spec.phrases import verb_lemma

    for m in _BEFORE.finditer(sentence):
        said = m.group("to").lower()
        if (verb_lemma(said) or said) in _NOT_A_STATE_VERB or said in _NOT_A_STATE_VERB:
            continue
        entity = _entity_before(c, start, sentence, m.start())
        if entity is None:
            continue
        target, action = _value(said), guarded_action_name(_value(said))
        index = machine_of(c, entity)
        if index is None:
            status = _status_of(c, entity)
            if status is None:
                continue
            field, states, _ = status
            at = _state_named(m.group("at"), states)
            if at is None or target in states[:states.index(at)]:
                continue
            # the listed states, any to any (as a guarded move leaves them), and the way out
            # before `at` (added below) the only way into the target
            moves = {s: [t for t in states if t not in {s, target}] for s in states}
            c.add(RequirementKind.rule, start + m.start(), start + m.end(), ("sm", entity),
                  rule=RuleKind.state_machine, entity=entity, field=field, values=list(states),
                  params={"transitions": moves}, summary=f"{entity}.{field} moves freely")
            index = machine_of(c, entity)
            if index is None:
                continue
        states = list(c.items[index].values)
        at = _state_named(m.group("at"), states)
        if at is None:
            continue
        extend_machine(c, index, states[:states.index(at)], target, (start + m.start(), start + m.end()),
                       action)
