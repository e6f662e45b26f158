"""External services a spec names: "open-meteo API", "the Frankfurter API", "Stripe"."""

from __future__ import annotations

import re

from mb_core.spec.vocabulary import words

_API = re.compile(r"((?:[A-Za-z][\w\-.]*\s+){1,3}?)APIs?(?:['\u2019]s)?\b")
_NEGATION = re.compile(r"\b(?:avoid|without|no|not|never|don't|do not|instead of|rather than)\b",
                       re.IGNORECASE)


def _negated(sentence_before: str) -> bool:
    return bool(_NEGATION.search(sentence_before))


def find_services(text: str) -> tuple[list[str], list[str]]:
    """(services asked for, services the text rules out), in order of mention."""
    wanted: list[str] = []
    refused: list[str] = []
    for sentence in re.split(r"(?<=[.!?;])\s+", text):
        for m in _API.finditer(sentence):
            names = m.group(1).split()
            while names and names[0].lower() in words("generic_api_words"):
                names.pop(0)
            kept: list[str] = []
            for name in reversed(names):  # the words right before "API"
                if name.lower() in words("generic_api_words") or name.lower() in words(
                        "determiners") or name.lower() in words("prepositions"):
                    break
                kept.insert(0, name)
            if not kept:
                continue
            service = " ".join(kept) + " API"
            (refused if _negated(sentence[:m.start()]) else wanted).append(service)
        low = sentence.lower()
        for known in sorted(words("external_services"), key=len, reverse=True):
            m2 = re.search(rf"(?<![\w-]){re.escape(known)}(?![\w-])", low)
            if not m2 or any(known in s.lower() for s in wanted + refused):
                continue
            original = sentence[m2.start():m2.end()]
            (refused if _negated(sentence[:m2.start()]) else wanted).append(original)
    dedup = lambda xs: list(dict.fromkeys(xs))
    return dedup(wanted), dedup(refused)
