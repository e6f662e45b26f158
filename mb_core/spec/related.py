"""Nouns a sentence links to a record are records too.

"A device belongs to a customer", "each repair order references a device", "a reservation is
for one room and one guest", "policyholders hold policies": whatever a record belongs to,
references or is held by is data the application keeps, even when the word alone would be a
person who uses the app (a customer), a technical word (a device) or a noun mentioned in passing.
The links are read with the requirement rules' own grammar of relations, so the reader and the
requirements agree on which pairs are linked.
"""

from __future__ import annotations

import re

from mb_core.models import EntitySpec, ScaffoldSpec
from mb_core.spec.naming import label, plural, singular
from mb_core.spec.noun_rules import entity_name, is_field_head
from mb_core.spec.reading_state import Candidate, Reading
from mb_core.spec.vocabulary import dropped_reasons, words

# The reasons a noun may be set aside that a link to a record overrules; never an injection,
# a service or a field.
_OVERRULED = ("mentioned without a sign", "people who use the app", "technical choice",
              "names the application itself", "accounts are provided by the auth layer")
# a screen word is a record only as a whole made of records ("each menu is made up of dishes");
# "the dashboard lists its projects" says what a screen shows
_WHOLE_ONLY = ("presentation word",)
# Verbs by which many parties hold, make or receive records of their own ("journalists write
# articles", "policyholders hold policies", "guests make reservations"); verbs that only say
# what someone may do to rows (add, edit, view, approve) or that use a shared resource (book,
# reserve a room) are rights, not ownership.
OWNING_VERBS = frozenset({
    "hold", "holds", "own", "owns", "write", "writes", "author", "authors", "file", "files",
    "submit", "submits", "place", "places", "make", "makes", "raise", "raises", "open", "opens",
    "receive", "receives", "bring", "brings", "take", "takes", "buy", "buys", "purchase",
    "purchases", "rent", "rents", "lease", "leases", "sign", "signs", "send", "sends", "issue",
    "issues", "carry", "carries", "keep", "keeps", "have", "has", "lead", "leads", "run", "runs",
    # records a party files about itself: "employees request leave", "drivers log trips",
    # "consultants fill in timesheets"
    "request", "requests", "log", "logs", "claim", "claims", "fill", "fills",
})
_ROUNDS = 3  # a link found may make a third noun linkable ("repair order -> device -> customer")


def _set_aside(r: Reading, kept: set[str], overruled=_OVERRULED) -> dict[str, list[int]]:
    """Names of nouns not (yet) records, with the positions of their phrases."""
    found: dict[str, list[int]] = {}
    generic = words("generic_people") | {"user", "person", "people"}
    for np in r.phrases:
        # a plain noun of one or two words: a longer chunk is often a misread ("a clinic books
        # treatment rooms"), never worth a record of its own on a link alone
        if np.in_parens_of is not None or is_field_head(np.name_words) or len(np.words) > 2:
            continue
        name = r.by_position.get(np.position)
        if name is not None:
            if name in kept or (cand := r.candidates.get(name)) and cand.compound in kept:
                continue
        else:
            decision = r.decisions.get(np.position)
            if decision is None or decision.decision != "dropped" or not any(
                    why in decision.reason for why in overruled):
                continue
            name = entity_name(np.words)
            if "names the application itself" in decision.reason and not _counted_or_plural(np):
                continue  # "a helpdesk for tickets" is the app; "tools", "one tool" are rows
            if "auth layer" in decision.reason and singular(np.words[-1]) != "account":
                continue  # a bank's or a shop's accounts are rows; logins and sign-ups are not
        if not name or singular(np.words[-1]) in generic or np.words[-1] in generic:
            continue
        # the head noun decides: "a CSV export of deals" is an export (a feature of the app),
        # whatever "CSV" alone would be; a head set aside for a reason a link overrules can be one
        head = dropped_reasons().get(singular(np.words[-1].lower()))
        if head and not any(why in head for why in overruled):
            continue
        found.setdefault(name, []).append(np.position)
    return found


def _counted_or_plural(np) -> bool:
    last = np.original_words[-1].lower() if np.original_words else np.words[-1]
    return singular(last) != last or bool(np.before) and np.before[-1] in {
        "one", "each", "every", "single", "another"}


def _kept(r: Reading) -> set[str]:
    """The records the reader keeps so far (as _finish_entities chooses them: the strong ones,
    else all those with any sign)."""
    least = 1 if any(c.strength >= 1 for c in r.candidates.values()) else 0
    kept = {c.name for c in r.candidates.values() if c.strength >= least} | set(r.known)
    # "a leave request" named "request" while "leave" looked like its parent: with no such
    # parent kept it may keep its whole name (as _finish_entities will), so links are read
    # under both names ("placed in a category" of "product categories" may still make the
    # parent a record)
    return kept | {c.compound for c in r.candidates.values()
                   if c.name in kept and c.parent and c.compound and c.parent not in kept}


def _spec(r: Reading, names: set[str]) -> ScaffoldSpec:
    return ScaffoldSpec(text=r.english, title="", app_name="app", entities=[
        EntitySpec(name=n, plural=plural(n), label=label(n)) for n in sorted(names)])


def _subject_counted(r: Reading, text: str, start: int) -> bool:
    """The owning side is many ("journalists", "each farmer"), not the one who runs the app
    ("a freelancer sends invoices")."""
    said = text[start:].split()[0].lower().strip(",.;:") if text[start:].strip() else ""
    before = text[max(0, start - 8):start].lower().split()
    return (said != singular(said)) or bool(before and before[-1] in {"each", "every"})


def promote_linked_nouns(r: Reading) -> None:
    """Make records of the nouns linked to a record by belonging, reference or ownership."""
    from mb_core.requirements.extract import Reader, relation_claims  # the one grammar of links
    from mb_core.requirements.relation_gaps import WHOLE_OF_PARTS

    for _ in range(_ROUNDS):
        kept = _kept(r)
        aside = _set_aside(r, kept)
        wholes = {n: p for n, p in _set_aside(r, kept, _OVERRULED + _WHOLE_ONLY).items()
                  if n not in aside}
        aside = {**aside, **wholes}
        if not aside:
            return
        reader = Reader(r.english, _spec(r, kept | set(aside)))
        promoted = False
        for pair, said in relation_claims(reader).items():
            # with no record kept yet, a link said outright between two nouns makes both records;
            # so does many parties owning records ("suppliers receive purchase orders")
            owned = any(c.verb in OWNING_VERBS and _subject_counted(r, r.english, c.start)
                        for c in said)
            if len(pair) != 2 or not (pair & kept or not kept or owned) or not (pair & set(aside)):
                continue
            if not kept and not any(c.strength >= 2 for c in said):
                continue
            if not any((c.strength >= 2 and not _acted_on(r.english, c))
                       or (c.verb in OWNING_VERBS and _subject_counted(r, r.english, c.start))
                       for c in said):
                continue
            if pair & set(wholes) and not any(c.parent in wholes and WHOLE_OF_PARTS.search(
                    r.english[c.start:c.end]) for c in said):
                continue
            for name in pair & set(aside):
                _promote(r, name, aside[name])
                promoted = True
        if not promoted:
            return


# Participles by which a record is kept under, made by or led by another: "filed against a
# policy", "managed by an agent", "taken from a patient". Others say what is done to a record
# ("assigned to", "approved by", "emailed to"): whom they name acts, and is no record for it.
LINKING_PARTICIPLES = frozenset({
    "filed", "recorded", "logged", "held", "kept", "taken", "placed", "issued", "linked",
    "attached", "tied", "connected", "related", "associated", "made", "raised", "stored",
    "located", "housed", "registered", "owned", "managed", "led", "run", "drawn", "written",
    "authored", "analysed", "analyzed", "grown", "built", "produced", "opened", "signed",
    "submitted", "created", "hosted", "organised", "organized", "scheduled", "staffed", "given",
    # kept together under another ("talks are grouped into tracks", "items sorted into bins")
    "grouped", "sorted", "divided", "classified", "categorised", "categorized", "nested",
    "collected", "gathered", "bundled", "listed", "included", "contained",
    # made by a party who holds them ("a viewing is booked by a buyer")
    "booked", "reserved", "ordered", "requested", "rented", "hired", "purchased", "bought",
})


def _acted_on(text: str, claim) -> bool:
    """ "tickets are assigned to agents", "approved by an inspector", "emailed to the customer":
    a participle that does something to the record, not one that keeps it under another."""
    said = re.findall(r"[a-z]+", text[claim.start:claim.end].lower())
    if re.search(r"\b(?:restricted|limited|reserved|confined) to\b", " ".join(said)):
        return True  # "changing menus is reserved to the head chef": whom a right is kept to
    if set(said[1:-1]) & {"done", "performed", "handled", "carried"}:
        return True  # "approvals are done by a supervisor": work someone does, no record of theirs
    return any(len(w) > 4 and w.endswith(("ed", "en")) and w not in LINKING_PARTICIPLES
               for w in said[1:-1])


def _promote(r: Reading, name: str, positions: list[int]) -> None:
    cand = r.candidates.get(name)
    if cand is None:
        cand = r.candidates.setdefault(name, Candidate(name=name, strength=2,
                                                       position=positions[0]))
    cand.strength = max(cand.strength, 2)
    r.linked.add(name)
    for pos in positions:
        np = r.phrases[pos]
        cand.phrases.append(np.text)
        r.by_position[pos] = name
        r.decisions.pop(pos, None)
        r.decide(np, "entity", "linked to a record: rows of their own that records belong to")
