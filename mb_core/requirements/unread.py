"""Never a silent drop: a clause of the spec that states a requirement (an obligation, permission
or constraint marker: must, should, can, cannot, may, only, never, at most, up to N, between A and
B, a list of choices "a, b or c", a phrase that ties one record to another; or an imperative
such as "send", "show", "calculate") from which no rule read anything is itself a requirement,
one the offline builder did not understand. It is traced as not implemented, with the reason and
the way to get it built, like any unmet requirement.

Precise both ways: a clause a rule read (a requirement's span meets it) or whose every content
word is explained (the records it names, their fields, the people in it, plain CRUD verbs) is
understood and gives nothing. A clause that ties two records together ("collectors own paintings",
"each box sits on a shelf") with no relation read between them is reported as such.
"""

from __future__ import annotations

import re

from mb_core.models import RequirementKind
from mb_core.requirements.extract import _STOP, Collector, _field_forms, _forms
from mb_core.spec.naming import singular, with_article
from mb_core.spec.vocabulary import words

_WAY = "an LLM provider (--provider openai) can read and build it"
UNREAD_REASON = f"the offline builder did not understand what this asks; {_WAY}"

# obligation, permission and constraint markers of English
_MARKER = re.compile(
    r"\b(?:must|mustn't|should|shouldn't|shall|can|cannot|can't|could|may|only|never|always|"
    r"at most|at least|no more than|not more than|no less than|fewer than|more than|exactly|"
    r"required|requires?|has to|have to|needs? to|allowed|permitted|forbidden|prohibited|"
    r"able to|no two|not be|unless|whenever|up to \d+|between \S+ and|one of)\b", re.IGNORECASE)
# a list of choices: "matte, gloss or plain", "light, medium or dark"
_CHOICES = re.compile(r"\b\w+(?: \w+){0,2},\s*\w+(?: \w+){0,2},?\s+or\s+\w+")
# a list of what a record holds: "a serial number, a daily rate and a state", "the title, the
# artist and the year"
_FIELDS = re.compile(r",\s*(?:the|a|an|its|their)\s+[a-z].*?\b(?:and|or)\s+(?:the|a|an|its|their)\s+"
                     r"[a-z]", re.IGNORECASE)
# a phrase that always ties a record to another, whether or not the other is a known record
_TIES = re.compile(r"\b(?:belongs? to|belonging to|(?:is|are) for (?:a|an|one|each)|given to|"
                   r"assigned to|allocated to|linked to|covers? (?:many|several|one|a|an)|"
                   r"(?:has|have) (?:many|several|multiple|one or more)|"
                   r"(?:is|are) (?:held|kept|stored|located|placed) (?:in|at)|"
                   # "each technician works in one team", "a desk sits on exactly one floor"
                   r"[a-z]{3,}s (?:in|at|on|for|with|under|within|to|from|inside) (?:one|a single|"
                   r"exactly one|only one)|"
                   # "shelves are grouped into sections", "files are sorted under a folder"
                   r"(?:is|are) (?:grouped|divided|sorted|organi[sz]ed|split|arranged|filed|nested|"
                   r"classified|categori[sz]ed|collected|gathered|bundled|listed|kept|stored|placed|"
                   r"shown|held) (?:into|under|within|beneath))\b",
                   re.IGNORECASE)
# words of English that tie one record to another ("each X has several Ys", "a Y is for one X",
# "Xs are given to Ys", "a Y covers many Xs"); a report's "per" is read by the report rule
_LINK = re.compile(
    r"\b(?:has|have|having|owns?|owned|belongs? to|belonging to|is for|are for|given to|assigned to|allocated to|linked to|attached to|"
    r"tied to|part of|covers?|covered by|includes?|included in|contains?|made up of|consists? of|"
    r"kept in|held in|stored in|located in|placed in|takes? place in|many|several|multiple|"
    r"one or more|a number of|go(?:es)? to|sent to|issued to|lent to|comes? from|came from|"
    r"[a-z]+ed by|run by|made by|written by|drawn by)\b", re.IGNORECASE)
# a sentence that opens with a verb asks for something ("Send a reminder", "Show the total")
_IMPERATIVE = re.compile(
    r"^\s*(?:also\s+|please\s+|then\s+)?(?:show|display|list|send|notify|remind|email|alert|"
    r"calculate|compute|generate|print|export|import|sync|synchroni[sz]e|charge|bill|flag|"
    r"highlight|prevent|block|allow|let|enable|warn|require|provide|offer|support|calculate|"
    r"forecast|predict|recommend|integrate|upload|attach|archive|schedule|automate|report|"
    r"summari[sz]e|break down|group)\b",
    re.IGNORECASE)
# a view of records grouped by something: "show sales broken down by shop", "list the orders per
# region", "report visits by month". Its words may all be records and fields ("per region" made a
# region field), yet it asks for a grouping: only a rule that reads it (a report, a right, a
# filter) explains it; a relation read from "sales per region" does not
_GROUPED_VIEW = re.compile(
    r"^\s*(?:also\s+|please\s+|then\s+)?(?:show|shows|display|displays|list|lists|report|reports|"
    r"summari[sz]e|summari[sz]es|break down|breaks down|group|groups|give|gives|see|view)\b"
    r".*\b(?:by|per|for each|of each|in each|grouped by|broken down by|split by)\s+\w", re.IGNORECASE)
# clauses of one sentence: "A can x, but B cannot y"; "A must x; B may y"; "A can x, and B y"
_CLAUSE_BREAK = re.compile(r";|,\s*(?:and|but|while|whereas|although|though)\s+|\s+but\s+|"
                           r"\s+whereas\s+|\s+while\s+", re.IGNORECASE)
# words that say nothing a rule must read: keeping records, the app itself, plain CRUD
_PLAIN = frozenset({
    "app", "application", "system", "platform", "tool", "service", "database", "software", "site",
    "website", "portal", "api", "build", "create", "creates", "add", "adds", "edit", "edits",
    "update", "updates", "delete", "deletes", "remove", "removes", "view", "views", "see", "sees",
    "read", "reads", "list", "lists", "browse", "track", "tracks", "keep", "keeps", "store",
    "stores", "record", "records", "manage", "manages", "hold", "holds", "have", "has", "contain",
    "contains", "own", "owns", "log", "logs", "enter", "enters", "save", "saves", "change",
    "changes", "modify", "look", "show", "shows", "get", "gets", "use", "uses", "work", "works",
    "also", "each", "every", "any", "all", "their", "its", "new", "existing", "details",
    "detail", "information", "info", "data", "entry", "entries", "item", "items", "thing",
    "things", "way", "easily", "simple", "simply", "just", "basic", "number", "only", "can",
    "must", "should", "may", "able", "allowed", "need", "needs", "want", "wants", "like", "let",
    "lets", "help", "helps", "many", "one", "more", "them", "it", "they", "this", "that", "these",
    "those", "there", "here", "where", "who", "which", "what", "when", "how", "so", "too",
    "well", "please", "allow", "allows", "enable", "enables", "access", "our", "my",
    "added", "created", "edited", "updated", "deleted", "removed", "viewed", "listed", "changed",
    "modified", "stored", "recorded", "tracked", "kept", "saved", "managed", "browsed", "entered",
    "logged", "seen", "held", "owned",
})
# the unit a field is given in ("a duration in minutes", "a weight in kilograms") says its type
_UNITS = frozenset({
    "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks",
    "month", "months", "year", "years", "gram", "grams", "kilogram", "kilograms", "kg", "tonne",
    "tonnes", "litre", "litres", "liter", "liters", "metre", "metres", "meter", "meters", "km",
    "kilometres", "kilometers", "mile", "miles", "euro", "euros", "dollar", "dollars", "pound",
    "pounds", "cent", "cents", "percent", "percentage", "integer", "integers", "decimal",
})
_PEOPLE = words("person_nouns") | words("generic_people") | {"staff", "we", "you", "i", "us"}


def _content_words(clause: str) -> list[str]:
    return [w for w in re.findall(r"[a-z][a-z']*", clause.lower()) if w not in _STOP]


def _explained(c: Collector, start: int, clause: str) -> bool:
    """Every content word of the clause is a record it names, one of their fields, a person or a
    plain word: nothing in it asks for more than the records themselves."""
    low = clause.lower()
    masked = low
    names = {m.entity for m in c.r.in_range(start, start + len(clause))}
    forms = {form for name in names for form in _forms(name)}
    forms |= {form for name in names for f in c.r.fields.get(name, []) for form in _field_forms(f)}
    # the longest first, so "bike model" (a field) is masked whole before "bike" (a record) takes
    # its first word; and so the result never depends on the order a set is iterated in
    for form in sorted(forms, key=lambda f: (-len(f), f)):
        masked = re.sub(rf"(?<![\w-]){re.escape(form)}(?![\w-])", " ", masked)
    masked = re.sub(r"\b(?:in|per)\s+(?:[a-z]+)\b", lambda m: " " if m.group(0).split()[-1] in
                    _UNITS else m.group(0), masked)
    masked = re.sub(r"\((?:[a-z]+)\)", lambda m: " " if m.group(0)[1:-1] in _UNITS else
                    m.group(0), masked)
    left = [w for w in _content_words(masked) if w not in _PLAIN and w not in _PEOPLE
            and singular(w) not in _PEOPLE and not w.endswith("'s")]
    return not left


def _clauses(start: int, sentence: str):
    pos = 0
    for m in _CLAUSE_BREAK.finditer(sentence):
        yield start + pos, sentence[pos:m.start()]
        pos = m.end()
    yield start + pos, sentence[pos:]


def _trimmed(start: int, clause: str) -> tuple[int, str]:
    lead = len(clause) - len(clause.lstrip(" ,:-"))
    body = clause.strip(" ,:-")
    return start + lead, body


# any verb with a count of the other side: "each box sits on a shelf", "a crew runs many shifts"
# (a bare preposition is no verb: "track wines in a cellar" says where the app is used)
_VERB_WITH_COUNT = re.compile(r"^\s+(?:is\s+|are\s+)?(?!(?:in|at|on|of|for|with|from|by|to|"
                              r"into|within|inside|near|across)\s)[a-z]+(?:\s+[a-z]+)?\s+(?:a|an|one|each|"
                              r"many|several|multiple|exactly one|at least one)\s+$", re.IGNORECASE)
# any verb before a determiner of the other record: "each review targets the product it rates",
# "a memo mentions which client it is about", "a quote goes with an order"; or a preposition of
# association: "a memo regarding a client", "a grievance against an employer"
_VERB_OF_ASSOCIATION = re.compile(
    r"^\s+(?:(?:can|may|must|will|should|always|also|only|usually|often)\s+)*(?:(?:is|are)\s+)?"
    r"(?!(?:is|are|was|were|be|and|or|of|in|at|on|for|with|from|by|to|per|as|than)\s)"
    r"[a-z]{3,}(?:\s+(?:to|with|on|in|for|at|by|from|about|against|under|into|within|after))?\s+"
    r"(?:the|its|their|a|an|one|each|every|which|what|whichever)\s+$|"
    # with what it acts on between: "a booking reserves seats on a trip"
    r"^\s+(?:(?:can|may|must|will|should|always|also|only|usually|often)\s+)?"
    r"(?!(?:is|are|was|were|be|and|or|of|in|at|on|for|with|from|by|to|per|as|than|has|have)\s)"
    r"[a-z]{3,}s\s+[a-z]+s\s+(?:to|with|on|in|for|at|from|into|under|within)\s+"
    r"(?:the|its|their|a|an|one|each|every)\s+$|"
    r"^\s+(?:(?:is|are)\s+)?(?:regarding|concerning|about|against|involving|covering|"
    r"serving|between|among|towards|on behalf of)\s+(?:the|its|their|a|an|one|each|every)\s+$|"
    # a verb and its preposition right before the other record: "beekeepers look after hives"
    r"^\s+(?:(?:can|may|must|will|should|always|also|only|usually|often)\s+)?"
    r"(?!(?:is|are|was|were|be|and|or|of|in|at|on|for|with|from|by|to|per|as|than|has|have)\s)"
    r"[a-z]{3,}\s+(?:after|over|for|with|on|to|at|into|onto|from|under)\s+$",
    re.IGNORECASE)
# a clause about who may do what ("managers can view orders for each invoice", "staff may print
# the receipts of an order"): a right over records, no link between them
_PERMISSION = re.compile(
    r"^\s*(?:the\s+|all\s+|only\s+|our\s+)?(?P<who>[a-z]+)\s+(?:can(?:not)?|can't|may|must|"
    r"should|shall|are able to|is able to|are allowed to|is allowed to|will be able to)\b",
    re.IGNORECASE)
# a record that has one of the people the app knows ("each order has a customer", "a project
# needs a manager"): a link to a person kept as no record, unless a field of theirs follows
_HAS_PERSON = re.compile(
    r"\b(?:has|have|needs?|requires?|gets?|names?)\s+(?:a|an|one|exactly one|a single|its own|"
    r"their own|one or more|several|many)\s+(?P<who>[a-z]+)(?=\s*$|\s*[,.;(]|\s+(?:and|or|who|"
    r"that|which|to|for|from|at|in|on|with|per)\b)", re.IGNORECASE)
# "a pet adoption app": a record's name that names the app itself
_APP_NAME = re.compile(r"\s+(?:app|application|system|platform|tool|portal|site|website)\b",
                       re.IGNORECASE)


def _linked(c: Collector) -> set[frozenset[str]]:
    return {frozenset((r.owner, r.other)) for r in c.items
            if r.kind == RequirementKind.relation and r.owner and r.other}


def _unlinked_pair(c: Collector, start: int, clause: str, read, linked) -> tuple[str, str] | None:
    """Two records a clause ties together with a linking phrase, no relation between them read
    anywhere and nothing else read from the words that tie them."""
    # a record's name inside a field's noun ("a due date", "a date of birth") names a field
    nouns = [(r.span.start, r.span.end + len(m.group(0)) if (m := re.match(
        r"\s+of\s+(?:the\s+|a\s+|an\s+)?\w+", c.r.text[r.span.end:])) else r.span.end)
        for r in c.items if r.kind == RequirementKind.field]
    named = c.r.in_range(start, start + len(clause))
    field_forms = {form.lower() for m in named for f in c.r.fields.get(m.entity, [])
                   for form in _field_forms(f)}

    def in_field_noun(m) -> bool:
        tail = c.r.text[m.start:start + len(clause)].lower()
        return any(a < m.end and m.start < b for a, b in nouns) or any(
            re.match(rf"{re.escape(form)}(?![\w-])", tail) and len(form) > m.end - m.start
            for form in field_forms)

    mentions = sorted((m for m in named if not in_field_noun(m)
                       and not _APP_NAME.match(c.r.text[m.end:])), key=lambda m: m.start)
    rights = _is_permission(c, start, clause, mentions)
    for i, first in enumerate(mentions):
        for second in mentions[i + 1:]:
            if first.entity == second.entity:
                continue
            if frozenset((first.entity, second.entity)) in linked:
                continue
            between = c.r.text[first.end:second.start]
            if re.search(r"[,;]|\b(?:and|or)\b", between) or not (
                    _LINK.search(between) or not rights and (
                        _VERB_WITH_COUNT.match(between) or _VERB_OF_ASSOCIATION.match(between))):
                continue
            if any(a < second.start and first.end < b for a, b in read):
                continue
            return first.entity, second.entity
    return None


def _tie_to_unkept(c: Collector, start: int, clause: str) -> str | None:
    """ "each technician works in one team": the reason when a clause ties the one record it
    names to a noun the reader kept no record for."""
    tie = _TIES.search(clause)
    after = tie.end() if tie is not None else _person_tie(c, start, clause)
    named = {m.entity for m in c.r.in_range(start, start + len(clause))}
    if after is None or len(named) != 1:
        return None
    noun = re.match(r"\s*(?:(?:a|an|the|one|each|every|its|their)\s+)?([a-z][a-z-]+)",
                    clause[after:], re.IGNORECASE)
    if noun is None or noun.group(1).lower() in _STOP or any(
            singular(noun.group(1).lower()) in _forms(name) for name in named):
        return None  # the record it names is the far side: the near one is what was not kept
    record, other = next(iter(named)).replace("_", " "), singular(noun.group(1).lower())
    return (f"it seems to link {with_article(record)} to {with_article(other)}, which the offline "
            f"builder keeps no record for; {_WAY}")


def _person_tie(c: Collector, start: int, clause: str) -> int | None:
    """ "each order has a customer" where no customer is kept: where in the clause the person is
    named."""
    m = _HAS_PERSON.search(clause)
    if m is None:
        return None
    who = singular(m.group("who").lower())
    if who not in _PEOPLE or who in words("generic_people") or c.r.in_range(
            start + m.start("who"), start + m.end("who")):
        return None  # a person kept as a record is read by the relation rules
    return m.start("who")


def _is_permission(c: Collector, start: int, clause: str, mentions) -> bool:
    """The clause opens with people or a role (not a record it names) and what they may do."""
    m = _PERMISSION.match(clause)
    if m is None:
        return False
    who = m.group("who").lower()
    if any(x.start <= start + m.start("who") < x.end for x in mentions):
        return False  # "a ticket can ..." is about the record
    # any other subject before a modal is people or a role ("clerks", "the front desk" are no
    # records here); a pronoun stands for a record
    return who not in words("pronouns") | words("determiners") | {"there", "this", "that"}


# "an employee reports to a manager who is also an employee", "categories can have a parent
# category": a record tied to another row of its own kind, which the offline builder cannot make
_SELF_TIE = re.compile(r"\b(?:who|that|which)\s+(?:is|are)\s+(?:also\s+|itself\s+|themselves\s+)?"
                       r"(?:a|an|another)\s*$|\b(?:parent|another|other|sub|child|a different)"
                       r"[\s-]*$", re.IGNORECASE)


def _self_tied(c: Collector, start: int, clause: str) -> str | None:
    """The record a clause ties to another of its own rows, when no relation says so."""
    named = c.r.in_range(start, start + len(clause))
    for i, first in enumerate(named):
        for second in named[i + 1:]:
            if second.entity == first.entity and _SELF_TIE.search(
                    c.r.text[first.end:second.start]):
                return first.entity
    return None


# roles the text names: "three roles: cashier, manager and auditor", "there is also a trainer role"
_ROLE_ITEM = r"[a-z]+(?: (?!and\b|or\b)[a-z]+)?"
_ROLE_LIST = re.compile(rf"\broles?\b\s*(?::|are|include|including|such as|namely)\s*:?\s*"
                        rf"(?P<list>{_ROLE_ITEM}(?:\s*,\s*{_ROLE_ITEM})*(?:\s*,?\s*(?:and|or)\s+"
                        rf"{_ROLE_ITEM})?)", re.IGNORECASE)
_ONE_ROLE = re.compile(r"\b(?:an?|the|one)\s+(?P<one>[a-z]+)\s+role\b", re.IGNORECASE)


def _rightless_roles(c: Collector) -> None:
    """A role the text names but gives no right: reported, never kept silently read-only."""
    given = {r.role for r in c.items if r.kind == RequirementKind.role and r.role}
    given |= {who for r in c.items if r.kind == RequirementKind.workflow
              for who in r.params.get("roles", [])}
    for s_start, sentence in c.r.sentences():
        named = [x for m in _ROLE_LIST.finditer(sentence)
                 for x in re.split(r"\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+", m.group("list"))]
        named += [m.group("one") for m in _ONE_ROLE.finditer(sentence)]
        names = [singular(n.strip().lower()).replace(" ", "_") for n in named if n.strip()]
        bare = [n for n in dict.fromkeys(names) if n not in given and n not in _STOP
                and n not in words("generic_people") and n not in {"admin", "administrator"}]
        if not bare:
            continue
        start, clause = _trimmed(s_start, sentence)
        who = " and ".join(n.replace("_", " ") for n in bare)
        c.not_understood(start, clause, c.r.entity_at(start, start + len(clause)), (
            f"it names the role {who} but says nothing of what it may do; the offline "
            f"builder gives a role no rights the text does not state; {_WAY}"))


def unread_requirements(c: Collector) -> None:
    """Add a not-understood requirement for each requirement clause nothing was read from."""
    _rightless_roles(c)
    # an implied relation spans from one mention to another: it reads no clause in between
    # (a field's span is a noun: it explains words of a clause, not what the clause asks)
    read = [(r.span.start, r.span.end) for r in c.items if r.kind not in (
        RequirementKind.entity, RequirementKind.field) and not r.params.get("implied")]
    read += list(getattr(c, "understood", []))
    # what reads a grouped view: anything but a relation between the records it names
    views = [(r.span.start, r.span.end) for r in c.items if r.kind not in (
        RequirementKind.entity, RequirementKind.field, RequirementKind.relation)]
    views += list(getattr(c, "understood", []))
    linked = _linked(c)
    for s_start, sentence in c.r.sentences():
        asks_whole = bool(_IMPERATIVE.match(sentence))
        for raw_start, raw in _clauses(s_start, sentence):
            start, clause = _trimmed(raw_start, raw)
            if len(_content_words(clause)) < 2:
                continue
            end = start + len(clause)
            itself = _self_tied(c, start, clause)
            if itself and frozenset((itself,)) not in linked:
                said = itself.replace("_", " ")
                c.not_understood(start, clause, itself, (
                    f"it seems to link a {said} to another {said}, but the offline builder "
                    f"makes no link from a record to its own kind; {_WAY}"))
                continue
            pair = _unlinked_pair(c, start, clause, read, linked)
            if pair:
                a, b = (x.replace("_", " ") for x in pair)
                c.not_understood(start, clause, pair[0], (
                    f"it seems to link {a} and {b}, but the offline builder found no link "
                    f"between them; {_WAY}"))
                continue
            person = _person_tie(c, start, clause)
            if person is not None and not any(a < end and start < b for a, b in read):
                reason = _tie_to_unkept(c, start, clause)
                if reason:
                    c.not_understood(start, clause, c.r.entity_at(start, end), reason)
                    continue
            if asks_whole and raw_start == s_start and _GROUPED_VIEW.match(clause):
                if not any(a < end and start < b for a, b in views):
                    entity = c.r.entity_at(start, end)
                    c.not_understood(start, clause, entity, UNREAD_REASON)
                continue
            if not (_MARKER.search(clause) or _CHOICES.search(clause) or _TIES.search(clause)
                    or _FIELDS.search(clause)
                    or (asks_whole and raw_start == s_start)):
                continue
            met = [(max(a, start) - start, min(b, end) - start) for a, b in read
                   if a < end and start < b]
            if met and not _FIELDS.search(clause):
                continue
            # a list of fields a rule read part of: what no rule read must still be explained
            rest = clause
            for a, b in met:
                rest = rest[:a] + " " * (b - a) + rest[b:]
            if _explained(c, start, rest):
                continue
            entity = c.r.entity_at(start, end)
            c.not_understood(start, clause, entity, _tie_to_unkept(c, start, clause) or UNREAD_REASON)
