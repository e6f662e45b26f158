"""More of English's ways of tying one record to another, read from the words between them.

The main grammar (extract._gap_claim) reads "has many", "belongs to", passives and possessives.
These rules read what it leaves: a plain verb with a preposition before one other record
("shipments leave from a warehouse", "rooms sit within a floor"), a reduced relative clause
("the payments made on each order", "prescriptions, written during an appointment"), a shared
one ("several people can share an address") and a phrasal verb with a count ("a guardian may
look after several children"). Each answers (parent, child, many, strength) or None.
"""

from __future__ import annotations

import re

# prepositions a record sits under, inside or comes from, besides extract._PREP's
_PLACE = (r"(?:to|with|on|in|for|at|into|under|from|against|by|about|within|inside|after|over|"
          r"through|during|across|around|onto|behind|beneath|below|beside)")
_ONE = r"(?:a|an|one|each|every|exactly one|a single|only one|a given|a particular)"
_MANY = (r"(?:many|several|multiple|one or more|any number of|zero or more|various|lots of|"
         r"a number of|some)")
_AUX = r"(?:(?:can|may|will|must|should|usually|often|typically|also|always|only|each|then|all)\s+)*"
# irregular participles that keep a record under another (regular ones end in -ed/-en)
_PARTICIPLES = (r"(?:[a-z]+(?:ed|en)|made|held|kept|built|sent|set|put|run|done|paid|sold|"
                r"bought|brought|taken|given|drawn|won|lost|met|left|found|got|told|spent|split)")
# "shipments leave from a warehouse", "rooms sit within a floor", "a guardian looks after a child"
_VERB_PREP_ONE = re.compile(
    rf"\s*{_AUX}(?P<verb>[a-z]+)(?:\s+(?:up|out|off|back|down))?\s+{_PLACE}\s+{_ONE}\s*",
    re.IGNORECASE)
# "a guardian may look after several children", "students enrol in many courses"
_VERB_PREP_MANY = re.compile(
    rf"\s*{_AUX}(?P<verb>[a-z]+)(?:\s+(?:up|out|off|back|down|part))?\s+{_PLACE}\s+{_MANY}\s*",
    re.IGNORECASE)
# "the payments made on each order", "prescriptions, written during an appointment"
_REDUCED_RELATIVE = re.compile(
    rf"\s*,?\s*(?:(?:that|which)\s+(?:are|is|were|was)\s+)?{_PARTICIPLES}\s+{_PLACE}\s+"
    rf"(?:{_ONE}|the|its|their)\s*", re.IGNORECASE)
# "several people can share an address", "many tenants may rent the same flat"
_SHARE_ONE = re.compile(rf"\s*{_AUX}(?P<verb>[a-z]+)\s+(?:a|an|one|the same|a single)\s*",
                        re.IGNORECASE)
_COUNTED_SUBJECT = re.compile(rf"(?:^|\s){_MANY}\s*$|(?:^|\s)(?:two or more|more than one)\s*$",
                              re.IGNORECASE)
# "every visit records which animal it concerns", "each sample notes which patient it came from":
# the record names the one other row it is about
_SAYS_WHICH = re.compile(r"\s*(?:(?:also|always|must|should|will|can)\s+)*(?:records?|notes?|says?|"
                         r"shows?|states?|stores?|keeps?|tracks?|names?|tells?|remembers?|logs?|"
                         r"marks?|captures?|holds?|lists?)\s+(?:which|what)\s*", re.IGNORECASE)
# "a researcher can be linked to several projects and a project to several researchers": the verb
# of the first half left out of the second
_ELLIPTIC_MANY = re.compile(rf"\s*(?:to|with|in|on|for|into|across)\s+{_MANY}\s*", re.IGNORECASE)
# "a memo regarding a client", "a grievance against an employer", "a note about each patient": a
# preposition of association before one other record, which the first is about
_ABOUT_ONE = re.compile(rf"\s*,?\s*(?:(?:is|are)\s+)?(?:regarding|concerning|about|against|involving|"
                        rf"on behalf of|in respect of)\s+(?:{_ONE}|the|its|their)\s*", re.IGNORECASE)
# "a course is divided into lessons", "a farm is made up of fields", "an order consists of many
# lines": the whole is the first record, its parts the second
WHOLE_OF_PARTS = re.compile(
    rf"\s*{_AUX}(?:(?:is|are)\s+)?(?:made up of|composed of|comprised of|consists? of|"
    rf"(?:divided|split|broken|cut|subdivided|separated|partitioned)(?:\s+(?:up|down))?\s+into)\s+"
    rf"(?:{_MANY}|its|their|the|two or more)?\s*", re.IGNORECASE)
# "a stop can be on several routes", "a product is in many orders": one belongs to many
_BE_IN_MANY = re.compile(rf"\s*{_AUX}(?:be|is|are)\s+(?:on|in|at|part of|listed on|listed in)\s+"
                         rf"{_MANY}\s*", re.IGNORECASE)
# "several rooms per hotel", "many seats per flight": a count of the first for each of the second
# (a total "per region" is a report and "at most 4 per room" a rule: only a count with no number)
_PER = re.compile(r"\s*per\s+(?:each\s+|every\s+)?", re.IGNORECASE)
_COUNT_BEFORE = re.compile(rf"(?:^|\s)(?:{_MANY}|a few)\s*$", re.IGNORECASE)
# "warehouses and bins: one warehouse to many bins"
_TO_MANY = re.compile(rf"\s*to\s+{_MANY}\s*", re.IGNORECASE)
_ONE_BEFORE = re.compile(r"(?:^|[\s:,(])one\s*$", re.IGNORECASE)
# "the tasks under a project", "rooms within each building", "the animals on each farm": kept
# inside the other, no verb
_UNDER = re.compile(r"\s*,?\s*(?:(?:that|which)\s+(?:are|is|sit|sits|live|lives)\s+)?"
                    r"(?:under|within|inside|beneath|(?:in|on|at) each|(?:in|on|at) every)\s+"
                    r"(?:a|an|one|each|every|the|its|their|a given)?\s*", re.IGNORECASE)
# "each lead records the campaign it came from", "a review names the product it rates": a clause
# about the record that says which other row it is tied to
_SAYS_THE = re.compile(r"\s*(?:(?:also|always|must|should|will|can)\s+)*(?:records?|notes?|says?|"
                       r"shows?|states?|stores?|keeps?|tracks?|names?|remembers?|logs?|captures?|"
                       r"holds?|gives?|mentions?)\s+the\s*", re.IGNORECASE)
_ABOUT_ITSELF = re.compile(r"\s+(?:(?:that|which)\s+)?(?:it|they)\s+[a-z]+|\s+(?:who|that|which)\s+"
                           r"[a-z]+\s+(?:it|them)\b", re.IGNORECASE)
# "a shop sorts products into categories", "staff file letters under a case": the second groups
# the first
_GROUPS_INTO = re.compile(r"\s*(?:into|under|in)\s+(?:the\s+|their\s+|its\s+)?", re.IGNORECASE)
_GROUPING_VERB = re.compile(r"\b(?:sorts?|groups?|files?|organi[sz]es?|divides?|puts?|places?|"
                            r"arranges?|splits?|classif(?:y|ies)|collects?|gathers?|bundles?)\s+"
                            r"(?:(?:the|its|their|all)\s+)?$", re.IGNORECASE)
# "a contact can exist without a company": the tie is there, only optional
_WITHOUT = re.compile(rf"\s*{_AUX}(?:exist|be\s+(?:kept|added|created|saved|recorded|made|"
                      r"entered|stored))\s+without\s+(?:a|an|one|any)\s*", re.IGNORECASE)
# verbs of joining what others join too: "a member can join several clubs", "an article may be
# tagged with several topics" says many-to-many on its own, the other side is shared
JOINS_SHARED = re.compile(
    r"\b(?:join|joins|joined|attend|attends|enrol|enrols|enroll|enrolls|enrolled|subscribes?|"
    r"subscribed|signs? up for|follows?|tagged|labell?ed|take part in|takes part in|"
    r"participates? in|registers? for|belongs? to|appears? in|is part of|are part of|be part of|"
    r"be added to|added to|"
    # present in many places at once: a place holds many such rows, so each side has many
    # ("a product is stocked in one or more warehouses", "a part is used in several models")
    r"(?:stocked|stored|sold|offered|available|used|featured|shown|carried|listed)\s+"
    r"(?:in|at|on|by|across))\b", re.IGNORECASE)
# words that are never the verb of such a clause
_NOT_VERBS = frozenset({
    "is", "are", "was", "were", "be", "been", "and", "or", "but", "the", "a", "an", "of", "per",
    "has", "have", "had", "with", "for", "than", "not", "no", "each", "every", "its", "their",
})


# "for each project, its milestones": the record the opening phrase names owns what "its" names
_FOR_EACH_ITS = re.compile(r"\s*,\s*(?:its|their)(?:\s+own)?\s*", re.IGNORECASE)
_FOR_EACH = re.compile(r"(?:^|\s)(?:for|in|under|within|on)\s+(?:each|every|any|a|an|one)\s*$",
                       re.IGNORECASE)
# "patients book appointments with doctors", "tenants sign leases for units", "procurement raises
# purchase orders against suppliers": after a verb and its object, a preposition names a second
# party the object (made by the verb) is with or for; it belongs to that party too
SECOND_PARTY = re.compile(rf"\s*(?:with|for|on|against|at|about|in)\s+(?:{_ONE}|the|their|its|"
                          rf"some)?\s*", re.IGNORECASE)
# "members borrow books through loans", "guests reserve rooms via bookings": the record after
# "through" is what ties the verb's subject to its object; both own it, neither the other
THROUGH = re.compile(r"\s*,?\s*(?:through|via|by way of|by means of)\s+(?:an?\s+|the\s+|their\s+|its\s+)?",
                     re.IGNORECASE)


def extra_gap_claim(a_entity: str, b_entity: str, gap: str,
                    lead: str, tail: str = "") -> tuple[str, str, bool, int] | None:
    """What the words `gap` between a record `a` and a record `b` say, given `lead`, the words
    of the sentence before `a`, and `tail`, those after `b`: (parent, child, many, strength) or
    None."""
    if re.search(r"[.;:!?]", gap):
        return None
    if _FOR_EACH_ITS.fullmatch(gap) and _FOR_EACH.search(lead):
        return a_entity, b_entity, True, 2
    if _PER.fullmatch(gap) and _COUNT_BEFORE.search(lead):
        return b_entity, a_entity, True, 2
    if _TO_MANY.fullmatch(gap) and _ONE_BEFORE.search(lead):
        return a_entity, b_entity, True, 2
    if _UNDER.fullmatch(gap) or _GROUPS_INTO.fullmatch(gap) and _GROUPING_VERB.search(lead):
        return b_entity, a_entity, False, 2
    if _SAYS_THE.fullmatch(gap) and _ABOUT_ITSELF.match(tail):
        return b_entity, a_entity, False, 2
    if _WITHOUT.fullmatch(gap):
        return b_entity, a_entity, False, 2
    # after "reported by a resident", "about a house" is about the clause's subject, not a
    if _SAYS_WHICH.fullmatch(gap) or _ABOUT_ONE.fullmatch(gap) and not re.search(
            rf"\b(?:by|from|to|for|with)\s+(?:{_ONE}|the|its|their)?\s*$", lead):
        return b_entity, a_entity, False, 2
    if _ELLIPTIC_MANY.fullmatch(gap) and re.search(r"\band\s+(?:a|an|one|each|every)\s*$", lead):
        return a_entity, b_entity, True, 2
    if _BE_IN_MANY.fullmatch(gap):
        return a_entity, b_entity, True, 2
    m = _REDUCED_RELATIVE.fullmatch(gap)
    if m:
        return b_entity, a_entity, False, 2
    m = _VERB_PREP_ONE.fullmatch(gap)
    if m and m.group("verb").lower() not in _NOT_VERBS:
        return b_entity, a_entity, False, 2
    m = _VERB_PREP_MANY.fullmatch(gap)
    if m and m.group("verb").lower() not in _NOT_VERBS:
        return a_entity, b_entity, True, 2
    m = _SHARE_ONE.fullmatch(gap)
    if m and m.group("verb").lower() not in _NOT_VERBS and _COUNTED_SUBJECT.search(lead):
        return b_entity, a_entity, False, 2
    return None


# "an employee reports to a manager, who is also an employee", "a category may sit under a parent
# category", "a task can depend on another task": a row tied to another row of its own kind
# ("other members" alone is no tie: "a member can message other members")
# "a task can be split into subtasks, which are tasks themselves", "reports to a manager (another
# employee)", "a member may be referred by another member": the role named, then its kind
_SELF_TIE = re.compile(
    r"\b(?:who|that|which)\s+(?:is|are)\s+(?:also\s+|itself\s+|themselves\s+)?(?:(?:a|an|another)\s*)?$|"
    r"\b(?:a|an|the|its|their|one)\s+(?:parent|sub)[\s-]*$|"
    r"[(,]\s*(?:another|also\s+an?|itself\s+an?|a\s+fellow|a\s+senior)\s*$|"
    r"\b(?:to|under|on|upon|of|in|within|inside|into|from|below|beneath|by|with|for)\s+another\s*$",
    re.IGNORECASE)


def self_relations(c) -> None:
    """A record tied to another row of its own kind, read where one sentence names it twice with
    such words between: one row has many rows of its own kind under it."""
    from mb_core.models import RelationKind, RequirementKind

    for start, sentence in c.r.sentences():
        named = c.r.in_range(start, start + len(sentence))
        for i, first in enumerate(named):
            second = next((m for m in named[i + 1:] if m.entity == first.entity), None)
            if second is None or not _SELF_TIE.search(c.r.text[first.end:second.start]):
                continue
            name = first.entity
            c.add(RequirementKind.relation, first.start, second.end, (name, name),
                  cardinality=RelationKind.one_to_many, owner=name, other=name,
                  summary=f"one {name} has many {name} of its own kind")
            break


def field_reference_relations(c) -> None:
    """ "Player: name, shirt number, team", "each order has a customer": a field named as another
    record (or ending in its name: "home team") is a reference to it, so that record owns it.
    Read where one sentence names both."""
    from mb_core.models import RelationKind, RequirementKind

    linked = {frozenset((r.owner, r.other)) for r in c.items if r.kind == RequirementKind.relation}
    records = sorted(c.r.entities, key=len, reverse=True)
    sentences = list(c.r.sentences())
    for entity in c.r.spec.entities:
        for f in entity.fields:
            target = next((e for e in records if e != entity.name and (
                f.name == e or f.name.endswith(f"_{e}"))), None)
            if target is None or frozenset((target, entity.name)) in linked:
                continue
            for start, sentence in sentences:
                named = c.r.in_range(start, start + len(sentence))
                owner = next((m for m in named if m.entity == entity.name), None)
                other = next((m for m in named if m.entity == target
                              and owner is not None and m.start > owner.end), None)
                if owner is None or other is None:
                    continue
                linked.add(frozenset((target, entity.name)))
                c.add(RequirementKind.relation, owner.start, other.end,
                      tuple(sorted((target, entity.name))), cardinality=RelationKind.one_to_many,
                      owner=target, other=entity.name, summary=f"one {target} has many {entity.name}")
                break
