"""Specs not written in English, read through a small glossary of business nouns.

The offline rules cannot parse another language's grammar. For the languages in vocabulary.yaml
they pick out the glossary's nouns in order (modifiers follow the head in Spanish and French:
"pedidos de clientes" reads as customer orders) and read them as a plain English list. Words
outside the glossary are not read; the decision log says so.
"""

from __future__ import annotations

import re

from mb_core.spec.vocabulary import vocabulary, words

_WORD = re.compile(r"[^\W\d_][\w\-]*", re.UNICODE)
_ENGLISH_MARKERS = {"the", "and", "with", "for", "of", "to", "a", "an", "that", "should", "can",
                    "app", "users", "is", "in"}
_DIRECTIONS = {"in": "incoming", "out": "outgoing"}


def detect_language(text: str) -> str | None:
    """The glossary language the text is written in, or None for English (or unknown)."""
    tokens = [t.lower() for t in _WORD.findall(text)]
    if not tokens:
        return None
    english = sum(t in _ENGLISH_MARKERS for t in tokens)
    best, best_hits = None, 0
    for language in vocabulary().languages:
        hits = sum(t in language.markers for t in tokens)
        if hits > best_hits:
            best, best_hits = language.name, hits
    if best and best_hits >= 3 and best_hits > 2 * english:
        return best
    return None


def translate_if_foreign(text: str) -> tuple[str, tuple[str, str] | None]:
    """(text to read, decision note) — English text comes back unchanged with no note."""
    name = detect_language(text)
    if name is None:
        return text, None
    language = next(lang for lang in vocabulary().languages if lang.name == name)
    phrases: list[str] = []
    for sentence in re.split(r"[.;:!?()]", text):
        run: list[str] = []
        for token in _WORD.findall(sentence) + [""]:
            english = language.glossary.get(token.lower())
            if english is not None:
                run.append(_DIRECTIONS.get(english, english))
                continue
            if run:
                ordered = list(reversed(run)) if language.head_first else run
                phrase = " ".join(ordered)
                if phrase not in words("adjectives") and ordered[-1] not in _DIRECTIONS.values():
                    phrases.append(phrase)
                run = []
    phrases = list(dict.fromkeys(phrases))
    if not phrases:
        note = f"written in {name.capitalize()}: none of its words are in the offline glossary"
        return "", (text[:80], note)
    english_text = "Manage " + ", ".join(phrases[:-1]) + (
        " and " if len(phrases) > 1 else "") + phrases[-1] + "."
    note = (f"written in {name.capitalize()}: read through the offline glossary as "
            f"'{english_text}'; other words were not read")
    return english_text, (text[:80], note)
