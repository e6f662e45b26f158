"""Noun phrase chunking over plain text, without a trained tagger.

Words are tagged from the closed-class and verb tables in vocabulary.yaml; a word that is both a
verb and a noun ("track", "book", "log") is a verb only where its neighbours say so. Noun phrases
are the runs of adjectives and nouns that end in a noun; each remembers the verbs that govern it,
the preposition before it, the phrase it hangs off ("the colour *of* their cars") and whether
it is the subject of the verbs after it ("members *can book*").
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import cache

from mb_core.spec.naming import singular
from mb_core.spec.vocabulary import words

_TOKEN = re.compile(
    r"[A-Za-z0-9\u00C0-\u024F][A-Za-z0-9\u00C0-\u024F\-]*(?:/[A-Za-z0-9\u00C0-\u024F][A-Za-z0-9\u00C0-\u024F\-]*)*"
    r"(?:['\u2019]s\b)?|[.,;:!?()\[\]\u2014\u2013]|&"
)
_CLAUSE_END = {".", ";", "!", "?", ":", "\u2014", "\u2013"}
_NP_TAGS = {"NOUN", "ADJ", "NUM"}
# irregular participles, which tag like the regular -ed ones ("prescriptions, written during a visit")
_EN_PARTICIPLES = {"written", "given", "taken", "driven", "chosen", "drawn", "grown", "shown",
                   "known", "stolen", "broken", "hidden", "eaten", "forgotten", "spoken", "frozen",
                   "woven", "sworn", "torn", "worn", "ridden", "beaten", "bitten", "undertaken"}
_T_PARTICIPLES = {"kept", "held", "sent", "built", "sold", "spent", "bought", "brought", "left",
                  "made", "told", "taught", "lent", "set", "put", "shut"}
_ED_NOUNS = {"need", "bed", "feed", "seed", "speed", "red", "shed", "breed", "weed", "reed",
             "shred", "sled", "med", "bred"}


@dataclass
class Token:
    text: str
    low: str
    tag: str = "NOUN"
    possessive: bool = False
    lemma: str = ""


@dataclass
class NounPhrase:
    words: list[str]  # lower case, adjectives in front removed
    text: str  # as written, with its adjectives
    sentence: int
    position: int  # index of the phrase in the whole text
    adjectives: list[str] = field(default_factory=list)
    verbs: list[str] = field(default_factory=list)  # lemmas of the verbs governing it
    subject_of: list[str] = field(default_factory=list)  # verbs it is the subject of
    prep: str = ""  # preposition right before it
    attached_to: int | None = None  # position of the phrase before that preposition
    in_parens_of: int | None = None  # "hardware assets (servers, switches)"
    possessive: bool = False
    list_id: int = 0  # phrases of one coordinated list ("A, B, and C") share it
    joiner: str = ""  # "and", "or" or "," when the phrase continues a list
    before: list[str] = field(default_factory=list)  # up to four words right before it
    all_words: list[str] = field(default_factory=list)  # with its adjectives
    original_words: list[str] = field(default_factory=list)

    @property
    def head(self) -> str:
        return singular(self.original_words[-1] if self.original_words else self.words[-1])

    @property
    def name_words(self) -> list[str]:
        """Words of the name: modifiers as written, the head singular."""
        return [*self.words[:-1], self.head]


def _normal(token: Token) -> str:
    """Lower case, with acronym plurals made singular: SKUs -> sku."""
    if re.fullmatch(r"[A-Z]{2,}s", token.text):
        return token.low[:-1]
    return token.low


def verb_lemma(word: str) -> str | None:
    verbs = words("verbs") | words("ambiguous_verbs")
    if word in verbs:
        return word
    candidates = []
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")
    if word.endswith("es"):
        candidates.append(word[:-2])
    if word.endswith("s"):
        candidates.append(word[:-1])
    if word.endswith("ed"):
        candidates += [word[:-2], word[:-1], word[:-3]]
        if word.endswith("ied"):
            candidates.append(word[:-3] + "y")
    if word.endswith("ing"):
        candidates += [word[:-3], word[:-3] + "e", word[:-4]]
    return next((c for c in candidates if c in verbs), None)


def _is_adjective(low: str) -> bool:
    if low in words("adjectives") or low in words("quantifiers"):
        return True
    if low in words("adjective_suffix_exceptions"):
        return False
    return any(low.endswith(s) for s in words("adjective_suffixes")) and len(low) > 4


@cache
def _lexical_tag(low: str) -> str:
    if re.fullmatch(r"[.,;:!?()\[\]\u2014\u2013&]", low):
        return "PUNCT"
    if low.isdigit():
        return "NUM"
    for tag, key in (("DET", "determiners"), ("PREP", "prepositions"), ("CONJ", "conjunctions"),
                     ("PRON", "pronouns"), ("AUX", "auxiliaries")):
        if low in words(key):
            return tag
    if low in words("adjectives") or "-" in low and _is_adjective(low):
        return "ADJ"
    if low in words("adverbs") or (low.endswith("ly") and low not in words("ly_words")
                                     and len(low) > 4):
        return "ADV"
    if low in words("ambiguous_verbs"):
        return "AMB"
    if low.endswith("ing") and len(low) >= 5:
        if low in words("ing_nouns"):
            return "NOUN"
        return "VERB" if verb_lemma(low) else "NOUN"
    if low.endswith("ed") and len(low) > 4 and low not in _ED_NOUNS or low in _EN_PARTICIPLES:
        return "ADJ"
    if low in words("verbs"):
        return "VERB"
    if _is_adjective(low):
        return "ADJ"
    lemma = verb_lemma(low)
    if lemma and lemma in words("ambiguous_verbs"):
        return "AMB"
    if lemma and lemma in words("verbs") and low.endswith("s"):
        # "assigns", "converts": a noun plural only if the base is not a plain verb
        return "VERB"
    return "NOUN"


def tokenize(text: str) -> list[list[Token]]:
    """Sentences (clauses ended by . ; : ! ? or a dash) of tokens."""
    text = re.sub(r"\b(e\.g|i\.e|etc)\.", r"\1", text, flags=re.IGNORECASE)
    sentences: list[list[Token]] = [[]]
    for m in _TOKEN.finditer(text):
        raw = m.group(0)
        possessive = bool(re.search(r"['\u2019]s$", raw))
        if possessive:
            raw = raw[:-2]
        token = Token(text=raw, low=raw.lower(), possessive=possessive)
        if raw in _CLAUSE_END:
            if sentences[-1]:
                sentences.append([])
            continue
        sentences[-1].append(token)
    return [_without_partitives(s) for s in sentences if s]


def _without_partitives(sentence: list[Token]) -> list[Token]:
    """ "each piece of equipment" read as "each equipment"."""
    out: list[Token] = []
    i = 0
    while i < len(sentence):
        t = sentence[i]
        if t.low in _PARTITIVES and i + 2 < len(sentence) and sentence[i + 1].low == "of" and \
                out and out[-1].low in {"a", "an", "each", "every", "one", "the", "any"} and \
                sentence[i + 2].low not in words("determiners"):
            i += 2
            continue
        out.append(t)
        i += 1
    return out


def _starts_noun_phrase(token: Token | None) -> bool:
    return token is not None and token.tag in {"DET", "ADJ", "NOUN", "NUM", "AMB"} and \
        token.low not in {"to", "and", "or"}


def tag(sentence: list[Token]) -> None:
    people = words("person_nouns") | words("generic_people")
    field_heads = words("field_heads")
    for i, token in enumerate(sentence):
        token.tag = _lexical_tag(token.low)
        token.lemma = verb_lemma(token.low) or token.low if token.tag in {"VERB", "AMB"} else token.low
        nxt = sentence[i + 1] if i + 1 < len(sentence) else None
        if token.low in {"has", "have", "contains", "include", "includes"} and nxt is not None \
                and _lexical_tag(nxt.low) in {"DET", "ADJ", "NOUN", "NUM", "AMB"}:
            token.tag, token.lemma = "VERB", "have"  # "the customer has name, birthday"
    for i, token in enumerate(sentence[1:], start=1):
        # "several analyses": right after a count a word is a noun, never a finite verb
        if token.tag == "VERB" and sentence[i - 1].low in _NOUN_OPENERS and token.low not in {
                "has", "have", "had"}:
            token.tag, token.lemma = "NOUN", token.low
    for i, token in enumerate(sentence[1:-1], start=1):
        prev, nxt = sentence[i - 1], sentence[i + 1]
        if token.tag == "VERB" and (token.low.endswith("ing") and prev.tag == "DET" and prev.low not in {
                "that", "which", "what", "whose"} or prev.low in {"a", "an"}) and nxt.tag in {
                    "NOUN", "AMB"} and (nxt.low in field_heads or singular(nxt.low) in field_heads):
            # "a tracking code", "the shipping address", "a hire date": a verb after an article
            # before a field's head names the field
            token.tag, token.lemma = "NOUN", token.low
    for i, token in enumerate(sentence[1:-1], start=1):
        # "a leave request", "each repair job": between an article and a noun a verb is the
        # noun's modifier, never the clause's verb (an article opens a noun phrase)
        prev, nxt = sentence[i - 1], sentence[i + 1]
        if token.tag == "VERB" and prev.low in _ARTICLES and nxt.tag in {"NOUN", "AMB"} and \
                not token.low.endswith(("ing", "ed", "s")):
            token.tag, token.lemma = "NOUN", token.low
    for i, token in enumerate(sentence[1:-1], start=1):
        # "a first name", "the last visit": between an article and a noun an adverb is the
        # noun's modifier
        if token.tag == "ADV" and sentence[i - 1].low in _ARTICLES and sentence[i + 1].tag == "NOUN":
            token.tag = "ADJ"
    for i, token in enumerate(sentence[1:-1], start=1):
        # "a leave has a start date", "each review is public": between an article and the
        # clause's own verb a word is the subject noun, though it can be a verb too
        prev, nxt = sentence[i - 1], sentence[i + 1]
        if token.tag == "VERB" and prev.low in _ARTICLES and (nxt.low in _SUBJECT_VERBS or (
                nxt.tag == "AUX" and nxt.low not in {"to"})) and not token.low.endswith(
                    ("ing", "ed")):
            token.tag, token.lemma = "NOUN", token.low
    for i, token in enumerate(sentence[1:-1], start=1):
        # "members borrow them", "customers open tickets": after people who act, a word that
        # takes an object is their verb, even one the tables do not list
        prev, nxt = sentence[i - 1], sentence[i + 1]
        after = sentence[i + 2] if i + 2 < len(sentence) else None
        if token.tag == "AMB" and nxt.tag == "VERB" and (after is None or after.tag in {
                "PREP", "CONJ"}) and prev.tag == "NOUN" and not prev.possessive and \
                singular(prev.low) in people and singular(prev.low) != prev.low:
            # "employees request leave": the people's verb, then its bare object
            token.tag, token.lemma = "VERB", verb_lemma(token.low) or token.low
            nxt.tag, nxt.lemma = "NOUN", nxt.low
            continue
        if token.tag in {"NOUN", "ADJ"} and prev.tag == "NOUN" and not prev.possessive and (
                singular(prev.low) in people and singular(prev.low) != prev.low
                or prev.low in words("generic_people") or prev.low in _COLLECTIVE_PEOPLE) and (
                nxt.tag in {"DET", "NOUN", "ADJ", "AMB"} or nxt.low in {"them", "it"}):
            token.tag, token.lemma = "VERB", verb_lemma(token.low) or token.low
    _clause_verbs(sentence)
    _prepositional_idioms(sentence)
    for i, token in enumerate(sentence):
        if token.tag != "AMB":
            continue
        prev = next((t for t in reversed(sentence[:i]) if t.tag != "ADV"), None)
        nxt = sentence[i + 1] if i + 1 < len(sentence) else None
        prev_low = prev.low if prev else ""
        boundary = prev is None or prev.tag in {"AUX", "PRON", "CONJ"} or prev_low in {
            ",", "(", "to", "and", "or", "&", "that", "which", "who"} or (prev.tag == "NOUN" and (
                singular(prev_low) in people and singular(prev_low) != prev_low
                or prev_low in words("generic_people")) and not prev.possessive)
        if prev is not None and prev.tag in {"DET", "ADJ"} and prev_low not in {
                "that", "which", "what", "whose"}:
            token.tag = "NOUN"
        elif prev_low == "to" and token.low.endswith("s") and token.lemma != token.low:
            token.tag = "NOUN"  # "add tags to bookmarks": an infinitive is never plural
        elif nxt is not None and (nxt.tag == "DET" and nxt.low not in {"that", "which", "what"}
                                  or nxt.low in {"them", "it", "us", "me", "him", "her"}):
            token.tag = "VERB"
        elif prev_low in {",", "and", "or"} and i >= 2 and sentence[i - 2].tag == "VERB":
            token.tag = "VERB"  # "add, view, edit, and delete films"
        elif boundary and nxt is not None and nxt.low in {"for", "through"}:
            token.tag = "VERB"  # "search for other players"
        elif prev_low in {"to"} or (prev is not None and prev.tag == "AUX") or boundary and _starts_noun_phrase(nxt) and (nxt.tag != "AMB" or prev_low != ","):
            token.tag = "VERB"
        else:
            token.tag = "NOUN"
    for i, token in enumerate(sentence[1:-1], start=1):
        # "each baked good has a price": right before the clause's verb, after an article or an
        # adjective, a word is the subject noun
        if token.tag == "ADJ" and sentence[i - 1].tag in {"DET", "ADJ"} and \
                sentence[i + 1].low in _SUBJECT_VERBS and token.low in _NAMED_BY_MODIFIER:
            token.tag = "NOUN"
    for i, token in enumerate(sentence[1:], start=1):
        # "plates are kept", "records are held": a participle after "be" names no thing
        if token.low in _T_PARTICIPLES and sentence[i - 1].low in _BE:
            token.tag = "ADJ"
    if len(sentence) > 2 and sentence[0].tag == "VERB" and sentence[1].tag == "NOUN" and \
            sentence[2].low in _SUBJECT_VERBS - {"has", "is", "was", "belongs", "needs"}:
        # "Support tickets have a subject": a sentence whose verb follows a plural noun opens
        # with that noun's modifier, not with an imperative ("Track tickets" has no "have")
        sentence[0].tag, sentence[0].lemma = "NOUN", sentence[0].low


_ARTICLES = {"a", "an", "the", "each", "every", "its", "their", "his", "her", "our", "your"}
# heads that are adjectives used as nouns: the modifier names the thing ("baked goods",
# "sporting goods", "white goods")
_NAMED_BY_MODIFIER = {"good", "goods"}
# "a piece of equipment" is one equipment: the partitive names no record of its own
_PARTITIVES = {"piece", "pieces", "item", "items", "article", "articles"}
_SUBJECT_VERBS = {"has", "have", "is", "are", "was", "were", "belongs", "needs", "must", "can",
                  "may", "will", "should"}
_NOUN_OPENERS = {"several", "many", "multiple", "various", "few"}
_CLAUSE_OPENERS = {",", "and", "or", "that", "which", "who", "where", "while", "when"}
_OBJECT_STARTS = {"DET", "NUM"}
_RELATIVE = {"that", "which", "whose", "what", "who"}
_MODAL_WORDS = {"can", "cannot", "may", "must", "will", "should", "could", "might", "shall", "would"}
_BE = {"is", "are", "was", "were", "be", "been", "being"}
# people named by a collective noun, plural in sense though singular in form ("staff raise
# requests", "personnel log hours")
_COLLECTIVE_PEOPLE = {"staff", "personnel", "crew", "faculty"}
# a noun inside a fixed phrase that works as one preposition ("the lead is in charge of orders",
# "calls made on behalf of a client") names nothing the app keeps
_IDIOMS = {("in", "charge", "of"), ("on", "behalf", "of"), ("in", "front", "of"), ("in", "terms", "of"),
           ("in", "place", "of"), ("in", "spite", "of"), ("in", "favour", "of"), ("in", "favor", "of"),
           ("in", "need", "of"), ("by", "means", "of"), ("in", "case", "of"), ("by", "way", "of")}


def _prepositional_idioms(sentence: list[Token]) -> None:
    for i in range(1, len(sentence) - 1):
        if (sentence[i - 1].low, sentence[i].low, sentence[i + 1].low) in _IDIOMS:
            sentence[i].tag = "PREP"



def _plain_lemma(low: str) -> str:
    """A verb's base form without a table: holds -> hold, carries -> carry, stocks -> stock."""
    if low.endswith("ies") and len(low) > 4:
        return low[:-3] + "y"
    if low.endswith(("ches", "shes", "sses", "xes")):
        return low[:-2]
    return low[:-1] if low.endswith("s") and not low.endswith("ss") else low


def _clause_verbs(sentence: list[Token]) -> None:
    """The verb of a clause that opens with its subject, even one no table lists: in
    "neighbours borrow tools" a bare stem after a plural subject, and in "a supporter funds
    many pledges" an -s form after a singular subject before its object's determiner, is the
    verb (English agreement: plural subjects take the stem, singular ones the -s form; a
    singular count noun has its determiner, so "track parcels" stays an order, not a subject)."""
    for i, token in enumerate(sentence[1:-1], start=1):
        if token.low == "set" and sentence[i + 1].low in {"to", "as"} and sentence[i - 1].tag == "NOUN":
            token.tag, token.lemma = "VERB", "set"  # "a status set to open or closed"
        # "is held by", "are sent to": after a form of "be", the word before a preposition is a
        # participle (irregular ones included), never a noun
        if sentence[i - 1].low in _BE and token.tag in {"NOUN", "AMB"} and sentence[i + 1].tag == "PREP":
            token.tag, token.lemma = "VERB", verb_lemma(token.low) or token.low
        # "a tag can belong to many recipes": after a modal, the word before its object is a verb
        if sentence[i - 1].low in _MODAL_WORDS and token.tag == "NOUN" and (
                sentence[i + 1].tag in {"PREP", "DET", "NUM"} or sentence[i + 1].low in words(
                    "quantifiers")) and sentence[i + 1].low not in {"of", "'s"}:
            token.tag, token.lemma = "VERB", verb_lemma(token.low) or token.low
    i = 0
    while i < len(sentence):
        start = i
        if i and sentence[i - 1].low not in _CLAUSE_OPENERS:
            i += 1
            continue
        j = start
        determiner = j < len(sentence) and sentence[j].tag == "DET" and sentence[j].low not in _RELATIVE
        if determiner:
            j += 1
        nouns = j
        while j < len(sentence) and sentence[j].tag in {"NOUN", "AMB"} and not sentence[
                j].possessive and j - nouns < 3:
            j += 1
        i += 1
        if j == nouns:
            continue
        # a noun of the run is the verb when the words before it are the subject
        for k in range(nouns + 1, j):
            subject, word = sentence[k - 1], sentence[k]
            nxt = sentence[k + 1] if k + 1 < len(sentence) else None
            if nxt is None or len(word.low) < 3:
                break
            plural_subject = singular(subject.low) != subject.low
            stem_form = not word.low.endswith("s")
            s_form = word.low.endswith("s") and not word.low.endswith(("ss", "us", "is"))
            determined = nxt.tag in _OBJECT_STARTS and nxt.low not in _RELATIVE or nxt.low in words(
                "quantifiers") or (nxt.tag == "PREP" and nxt.low not in {"of", "'s"})
            after = sentence[k + 2] if k + 2 < len(sentence) else None
            # "a library lends books to readers": a bare plural object that ends its phrase
            bare_plural = nxt.tag in {"NOUN", "AMB"} and singular(nxt.low) != nxt.low and (
                after is None or after.tag in {"PREP", "PUNCT", "CONJ"})
            if plural_subject and stem_form and k - 1 == nouns and (
                    determined or nxt.tag == "NOUN" and singular(nxt.low) != nxt.low) or (
                    not plural_subject and s_form and (determined or bare_plural) and determiner):
                word.tag, word.lemma = "VERB", verb_lemma(word.low) or _plain_lemma(word.low)
                break


def _list_modifiers(sentence: list[Token]) -> None:
    """In "with employees, departments and leave requests" the word after the list's comma or
    "and" modifies the noun after it: inside a with-list a verb tag there is a noun."""
    opener, opened_at, last_comma = "", 0, -1
    for i, token in enumerate(sentence):
        if i and sentence[i - 1].low == ",":
            last_comma = i - 1  # kept as we go: scanning back from each token was quadratic
        if token.tag == "VERB" and not (i >= 2 and opener in {"with", "including"}
                                        and sentence[i - 1].low in {",", "and", "or"}
                                        and sentence[i - 2].tag == "NOUN"):
            opener = ""
        elif token.tag == "PREP":
            # only a list of things something is made with ("an HR system with ..."), not the
            # way someone acts ("agents reply with comments and close tickets")
            opener = token.low if i and (sentence[i - 1].tag == "NOUN" or (
                sentence[i - 1].low == "," and i >= 2 and sentence[i - 2].tag == "NOUN")) else ""
            opened_at = i

        listed = last_comma >= opened_at  # a comma since the opener: "A, B and leave requests"
        if token.tag != "VERB" or opener not in {"with", "including"} or not listed or token.lemma in words(
                "managing_verbs") | {"send", "export", "import", "notify", "email", "share"}:
            continue
        nxt = sentence[i + 1] if i + 1 < len(sentence) else None
        after = sentence[i + 2] if i + 2 < len(sentence) else None
        if nxt is not None and nxt.tag in {"NOUN", "AMB"} and (
                singular(nxt.low) != nxt.low or nxt.low in words("field_heads")) and (
                after is None or after.tag in {"PUNCT", "CONJ", "PREP", "PRON"}
                or after.low in {",", "and", "or", "that", "which", "who"}):
            token.tag, token.lemma = "NOUN", token.low
            nxt.tag, nxt.lemma = "NOUN", nxt.low


def _kept_for(after: list[Token]) -> list[str]:
    """The verb of "(,) we keep" / "you record" after "for each X": the record keeps what it names."""
    words_ = [t for t in after if t.low != ","]
    if len(words_) >= 2 and words_[0].low in {"we", "you", "they", "i"} and words_[1].tag in {
            "VERB", "AMB"}:
        return [words_[1].lemma]
    return []


def _compounds_said_again(sentences: list[list[Token]]) -> None:
    """ "A leave request has ... Team leads approve or decline leave requests": two nouns said
    after an article are a compound, and wherever the two are said together again they are that
    compound (a verb among them is its modifier), so it names one record across sentences."""
    pairs = {(t.low, singular(n.low)) for sentence in sentences
             for p, t, n in zip(sentence, sentence[1:], sentence[2:], strict=False)
             if p.low in _ARTICLES and t.tag == "NOUN" and n.tag == "NOUN"}
    for sentence in sentences:
        for i, (token, nxt) in enumerate(itertools.pairwise(sentence)):
            if (token.low, singular(nxt.low)) not in pairs or nxt.tag not in {"NOUN", "AMB"}:
                continue
            if token.tag == "VERB":
                token.tag, token.lemma = "NOUN", token.low
                nxt.tag = "NOUN"
            if i >= 3 and sentence[i - 1].tag == "NOUN" and sentence[i - 2].low in {
                    "or", "and"} and sentence[i - 3].tag == "VERB":
                # "approve or decline leave requests": the word before it is the second verb
                sentence[i - 1].tag = "VERB"
                sentence[i - 1].lemma = verb_lemma(sentence[i - 1].low) or sentence[i - 1].low


_ITEM_OPENERS = {"a", "an", "any", "some", "its", "their"}


def _outer_item(phrases: list[NounPhrase], last: NounPhrase | None, sentence: list[Token],
                at: int) -> NounPhrase | None:
    """The list item that an "of" phrase just closed hangs off, when the phrase starting at `at`
    opens with an article of its own: "a date of birth and an address"."""
    if last is None or last.prep != "of" or last.attached_to is None or at == 0 or \
            sentence[at - 1].low not in _ITEM_OPENERS:
        return None
    outer = phrases[last.attached_to]
    return outer if outer.sentence == last.sentence and outer.before[-1:] and \
        outer.before[-1] in _ITEM_OPENERS else None


def noun_phrases(text: str) -> list[NounPhrase]:
    phrases: list[NounPhrase] = []
    list_id = 0
    sentences = tokenize(text)
    for sentence in sentences:
        tag(sentence)
    _compounds_said_again(sentences)
    for s_index, sentence in enumerate(sentences):
        _list_modifiers(sentence)
        verbs: list[str] = []
        prep = ""
        attached: int | None = None
        last_np: NounPhrase | None = None
        paren_owner: int | None = None
        list_open = False  # the last thing seen was a phrase followed by , / and / or
        joiner = ""
        i = 0
        while i < len(sentence):
            token = sentence[i]
            if token.tag in _NP_TAGS:
                j = i
                while j < len(sentence) and sentence[j].tag in _NP_TAGS:
                    if sentence[j].possessive:
                        j += 1
                        break
                    j += 1
                run = sentence[i:j]
                while run and run[-1].tag != "NOUN":
                    run = run[:-1]
                if run:
                    lead = 0
                    while lead < len(run) - 1 and run[lead].tag in {"ADJ", "NUM"} and \
                            run[-1].low not in _NAMED_BY_MODIFIER:
                        lead += 1
                    kept = run[lead:]
                    if not list_open:
                        list_id += 1
                    # a list goes on in the list of the phrase before it
                    in_list = last_np.list_id if list_open and last_np is not None else list_id
                    outer = _outer_item(phrases, last_np, sentence, i) if list_open else None
                    if outer is not None:
                        # "a number of seats and a cost of hire": an item with its own article
                        # after "of Y" continues the list "of Y" hangs off, not the "of"
                        prep, attached, in_list = outer.prep, outer.attached_to, outer.list_id
                    np = NounPhrase(
                        words=[_normal(t) for t in kept], original_words=[t.text for t in kept],
                        all_words=[_normal(t) for t in run],
                        before=[t.low for t in sentence[max(0, i - 4):i]],
                        text=" ".join(t.text for t in run), sentence=s_index,
                        position=len(phrases), adjectives=[t.low for t in run[:lead]],
                        verbs=list(verbs), prep=prep, attached_to=attached,
                        in_parens_of=paren_owner, possessive=run[-1].possessive, list_id=in_list,
                        joiner=joiner if list_open else "")
                    phrases.append(np)
                    last_np = np
                    list_open = False
                    nxt = sentence[j] if j < len(sentence) else None
                    if nxt is not None and (nxt.tag in {"VERB", "AUX"} or (
                            nxt.low == "to" and j + 1 < len(sentence)
                            and sentence[j + 1].tag in {"VERB", "AMB"})):
                        np.subject_of = [t.lemma for t in sentence[j:j + 6]
                                         if t.tag in {"VERB", "AMB"}][:3]
                    elif prep == "for" and np.before[-1:] in (["each"], ["every"]):
                        # "for every timesheet we keep the week": what is kept is the record's
                        np.subject_of = _kept_for(sentence[j:j + 3])
                    if np.possessive:
                        prep, attached = "'s", np.position
                i = max(j, i + 1)
                continue
            low = token.low
            if token.tag == "VERB":
                prev = sentence[i - 1] if i else None
                if not (prev is not None and prev.tag in {"PUNCT", "CONJ"} and verbs
                        and last_np is None):
                    verbs = []
                verbs.append(token.lemma)
                prep, attached, last_np = "", None, None
                list_open, joiner = False, ""
            elif token.tag == "PREP":
                prep = low
                attached = last_np.position if last_np else None
                list_open = False
            elif low == "(":
                paren_owner = last_np.position if last_np else None
            elif low == ")":
                paren_owner = None
            elif low in {",", "and", "or", "&"}:
                list_open = last_np is not None
                if low == ",":
                    joiner = ","
                elif low in {"and", "or", "&"}:
                    joiner = "and" if low == "&" else low
            elif token.tag in {"PRON", "AUX"} and low not in {"to"}:
                if token.tag == "PRON":
                    verbs, prep, attached = [], "", None
                elif prep == "'s":
                    prep, attached = "", None  # "a driver's licence must be ...": what is owned ended
            elif token.tag == "CONJ":
                list_open = False
            i += 1
    return phrases
