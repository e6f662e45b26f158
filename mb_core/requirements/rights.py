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
     "request schedule reserve upload issue report"), {Action.create}),
    ("view see read browse list look check search find read review track", {Action.read}),
    (("edit update change modify approve reject assign close resolve move rename reassign "
     "complete confirm mark borrow lend return publish decline"), {Action.update}),
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
_EVERYTHING = {"everything", "anything", "all", "records", "data", "the", "only",
               "every", "record", "entries", "information"}
# "... but only admins can edit them": the records the clause before named
_PRONOUN = re.compile(r"\s*(?:them|it|these|those|this|that|theirs|one)\b", re.IGNORECASE)
# "<people> have read-only access to <records>", "<people> get full access to ..."
_ACCESS = re.compile(
    r"(?=\b(?P<role>[A-Za-z]+(?: [A-Za-z]+)?)\s+(?:have|has|get|gets|are given|is given|will have)\s+"
    r"(?:(?P<kind>read[- ]only|view[- ]only|read|view|write|edit|full|complete|admin)\s+)?access\s+"
    r"(?:to|on|for)\s+(?P<rest>[^.;]*))", re.IGNORECASE)
_ACCESS_ACTIONS = {"read": {Action.read}, "view": {Action.read}, "write": {Action.read, Action.update},
                   "edit": {Action.read, Action.update}}
# people who hold an office rather than do a trade: roles when they are a subject of a right
# ("only the secretary may ..."), though a record may name one as a plain field ("an inspector")
_OFFICES = {"secretary", "treasurer", "officer", "auditor", "inspector", "organiser", "organizer",
            "team lead", "approver", "teller", "clerk", "caretaker", "steward", "chair", "registrar"}
# words that make a rank or a department of people a role of its own: "the chief editor" is not
# every editor, "IT staff" are not all staff
_ROLE_MODIFIERS = {"chief", "head", "senior", "junior", "lead", "assistant", "deputy", "it", "hr",
                   "general", "office", "shift", "duty", "floor", "branch", "regional", "site",
                   "principal", "associate", "vice"}
# agent nouns of English: a plural subject of a modal ending so is a kind of person
_AGENT = re.compile(r"[a-z]{3,}(?:ers|ors|ists|ians|ants|ents|ees|iers|eers)$")


# a right said through the work: "recruiters are responsible for adding candidates", "the clerk
# is in charge of editing orders", "deleting a contract is restricted to administrators"
_GERUNDS = r"[a-z]+ing(?:(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)[a-z]+ing)*"
_DUTY = re.compile(
    rf"(?=\b(?P<role>[A-Za-z]+(?: [A-Za-z]+)?)\s+(?:is|are)\s+(?:solely\s+|also\s+)?(?:responsible\s+for|"
    rf"in\s+charge\s+of|tasked\s+with|charged\s+with)\s+(?P<verbs>{_GERUNDS})\b(?P<rest>[^.;]*))",
    re.IGNORECASE)
_KEPT_TO = re.compile(
    rf"(?P<verbs>\b{_GERUNDS})\s+(?P<rest>[^.;]*?)\s+(?:is|are)\s+(?:only\s+)?(?:restricted|limited|"
    rf"reserved|confined|left)\s+to\s+(?:the\s+)?(?P<role>[A-Za-z]+(?: [A-Za-z]+)?)", re.IGNORECASE)


# "do everything except delete", "do anything but remove": every right save the ones named
_ALL_BUT = re.compile(rf"do\s+(?:everything|anything)\s+(?:(?:with|to|on)\s+[a-z]+\s+)?(?:except|but|apart from|"
                      rf"other than|besides)\s+(?:to\s+)?(?P<verbs>{_VERBS})\b", re.IGNORECASE)


def _gerund_verbs(phrase: str) -> str:
    """ "adding and deleting" -> "add and delete": each -ing form as the verb the table knows."""
    out = []
    for word in re.split(r"(\s*,\s*|\s+)", phrase.lower()):
        if word.endswith("ing") and len(word) > 4:
            stem = word[:-3]
            word = next((v for v in (stem, f"{stem}e", stem[:-1]) if v in _VERB_ACTIONS), stem)
        out.append(word)
    return "".join(out)


# "everyone can view articles", "anyone may read the menu", "all users can see events": the right
# is every role's of the app
EVERY_ROLE = "*"
_EVERYONE = re.compile(r"(?:everyone|everybody|anyone|anybody|all users|every user|any user|"
                       r"all staff|all members)", re.IGNORECASE)


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
    known = {r.name for r in c.r.spec.roles}
    if len(parts) == 2 and ({f"{parts[0]} {one}"} & (_PEOPLE | _OFFICES) or f"{parts[0]}_{one}" in known
                            or parts[0] in _ROLE_MODIFIERS and (one in _PEOPLE or one in _OFFICES
                                                                or bool(_AGENT.match(f"{one}s")))):
        return f"{parts[0]}_{one}"  # "fleet managers": the role the reader named, not any manager
    if head in _GENERIC or one in _GENERIC:
        return None
    if head in _PEOPLE or one in _PEOPLE or one in known or one in _OFFICES:
        return one
    if modal and _AGENT.match(head) and one not in c.r.entities:
        return one
    return None


def _roles(c: Collector, start: int, sentence: str) -> None:
    named: dict[int, str] = {}  # where a two-word role ends ("fleet managers"): not also "managers"
    for m in (m for pattern in reversed(_ROLES) for m in pattern.finditer(sentence)):
        modal = bool(re.match(rf"\s*(?:{_MODAL}|{_DENY})\b", sentence[m.end("role"):], re.IGNORECASE)) or (
            # "Producers manage projects": a sentence that opens with people and a verb of the table
            not re.sub(r"(?i)\b(?:the|all|our|only)\b", "", sentence[:m.start("role")]).strip()
            and m.group("verbs").split()[0].lower() in _VERB_ACTIONS
            and singular(m.group("role").lower().split()[-1]) not in c.r.entities)
        role = _role_name(c, m.group("role"), modal) or (
            EVERY_ROLE if _EVERYONE.fullmatch(m.group("role").strip()) else None)
        if role is None or named.get(m.end("role"), role) != role or _inside_record(c, start, m):
            continue
        if "_" in role and " " in m.group("role").strip():
            named[m.end("role")] = role
        actions = _verb_actions(m.group("verbs"))
        whole = _ALL_BUT.match(sentence, m.start("verbs"))
        if whole is not None:  # "can do everything except delete posts": every right but those
            refused = _verb_actions(whole.group("verbs"))
            if refused:
                rest_start = start + whole.end()
                objects = [x.entity for x in c.r.in_range(rest_start, start + len(sentence))][:1] or ["*"]
                _add_rights(c, start + m.start("role"), start + len(sentence), role, objects,
                            set(Action) - refused, refused)
            continue
        if re.fullmatch(r"check(?:s|ed)?", m.group("verbs").lower()) and re.match(
                r"\s+(?:[a-z]+\s+){0,3}?(?:in|out)\b", m.group("rest"), re.IGNORECASE):
            actions = {Action.update}  # "check bookings in and out" moves them on, not reads them
        if m.group("verbs").lower() in {"sign", "signs"} and re.match(r"\s*off\b", m.group("rest"), re.IGNORECASE):
            actions = {Action.update}  # "managers sign off expenses": a decision on the record
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
        if not objects and _PRONOUN.fullmatch(rest[:cut.start() if cut else len(rest)].strip(" ,") or "-"):
            objects = _antecedent(c, start + m.start("role"))
        if not objects and set(re.findall(r"[a-z]+", rest[:cut.start() if cut else len(rest)]
                                          .lower())) <= _EVERYTHING:
            objects = ["*"]
        if refusal_end is not None and (not objects or objects == ["*"]):
            # "may edit but not delete articles": the records follow the refusal, both verbs' own
            after = c.r.in_range(refusal_end, rest_start + len(rest))
            if after:
                objects, rest_end = [x.entity for x in after[:1]], after[0].end
        span_end = rest_end if objects != ["*"] else start + m.end("verbs")
        if refusal_end is not None:
            span_end = max(span_end, refusal_end)
        _add_rights(c, start + m.start("role"), span_end, role, objects, actions, denied)
    for m in (*_DUTY.finditer(sentence), *_KEPT_TO.finditer(sentence)):
        two = m.group("role").split()
        # "restricted to administrators only", "to the head nurse": the people, not what follows
        role = _role_name(c, m.group("role"), True) or (_role_name(c, two[0], True) if len(two) == 2 else None)
        actions = _verb_actions(_gerund_verbs(m.group("verbs")))
        if role is None or not actions:
            continue
        rest_start = start + m.start("rest")
        objects = [x.entity for x in c.r.in_range(rest_start, start + m.end("rest"))]
        _add_rights(c, start + m.start(), start + m.end(), role, objects, actions, set())
    ends: set[int] = set()
    for m in _ACCESS.finditer(sentence):
        head = m.group("role").lower().split()[-1]
        # "porters have access to ...": an agent noun given access is people, even when the reader
        # also kept it as a record
        role = _role_name(c, m.group("role"), True) or (singular(head) if _AGENT.match(head) else None)
        if role is None or m.end("role") in ends or _inside_record(c, start, m):
            continue
        ends.add(m.end("role"))
        kind = re.sub(r"[- ]only$", "", (m.group("kind") or "full").lower())
        actions = _ACCESS_ACTIONS.get(kind, set(Action))
        denied = set(Action) - actions if (m.group("kind") or "").lower().endswith("only") else set()
        rest_start = start + m.start("rest")
        rest = m.group("rest")
        cut = _REST_END.search(rest)
        rest_end = rest_start + len(rest[:cut.start() if cut else len(rest)].rstrip(" ,"))
        objects = [x.entity for x in c.r.in_range(rest_start, rest_end)]
        _add_rights(c, start + m.start("role"), rest_end, role, objects, actions, denied)


def _inside_record(c: Collector, start: int, m: re.Match) -> bool:
    """ "patient records": the subject is a word of a record's name, not people."""
    b = start + m.end("role")
    a = b - len(m.group("role").split()[-1])
    return any(x.start <= a and x.end > b for x in c.r.mentions)


def _antecedent(c: Collector, at: int) -> list[str]:
    """The record a pronoun stands for: the last one named before it, in its sentence or the one
    before."""
    boundary = max((i for i in range(max(0, at)) if c.r.text[i] in ".!?;\n"), default=-1)
    before = max((i for i in range(max(0, boundary)) if c.r.text[i] in ".!?;\n"), default=-1)
    for lo in (boundary + 1, before + 1):
        found = c.r.in_range(lo, at)
        if found:
            return [found[-1].entity]
    return []


def _add_rights(c: Collector, begin: int, end: int, role: str, objects: list[str],
                actions: set[Action], denied: set[Action]) -> None:
    for entity in dict.fromkeys(objects):
        if entity == role:
            continue
        ordered = sorted(actions, key=list(Action).index)
        refused = sorted(denied, key=list(Action).index)
        what = "every record" if entity == "*" else entity
        who = "every role" if role == EVERY_ROLE else role
        # one requirement per sentence: "customers place orders. Customers can view their orders"
        # are two rights, each traced to its own words
        c.add(RequirementKind.role, begin, end, ("role", role, entity, *ordered, "not", *refused),
              role=role, entity=entity, actions=ordered,
              params={"denied": [a.value for a in refused]} if refused else {},
              summary=f"{who} may {', '.join(a.value for a in ordered) or 'not'} {what}"
                      + (f" (not {', '.join(a.value for a in refused)})" if refused else ""))
