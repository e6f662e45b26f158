"""The word tables of vocabulary.yaml, loaded once and shaped for look-ups."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.yaml")


@dataclass(frozen=True)
class Language:
    name: str
    markers: frozenset[str]
    head_first: bool  # "gestión de pedidos": modifiers follow the head
    glossary: dict[str, str]


@dataclass(frozen=True)
class Vocabulary:
    raw: dict[str, Any]

    def words(self, key: str) -> frozenset[str]:
        return frozenset(str(w).lower() for w in self.raw.get(key) or [])

    @property
    def dropped(self) -> dict[str, str]:
        """Dropped noun (single or multi-word) -> the reason recorded in decisions."""
        table: dict[str, str] = {}
        for group in self.raw["dropped_nouns"].values():
            for word in group["words"]:
                table[str(word).lower()] = group["reason"]
        return table

    @property
    def synonyms(self) -> dict[str, str]:
        """Variant -> main word."""
        return {str(v).lower(): main for main, variants in self.raw["synonyms"].items()
                for v in variants}

    @property
    def languages(self) -> list[Language]:
        return [
            Language(name, frozenset(spec["markers"]), spec["head_first"] == "true",
                     {str(k).lower(): str(v) for k, v in spec["glossary"].items()})
            for name, spec in self.raw["languages"].items()
        ]

    def verbs_for(self, action: str) -> frozenset[str]:
        return frozenset(self.raw["verb_actions"][action])


@cache
def vocabulary() -> Vocabulary:
    # BaseLoader keeps every scalar a string: "on", "no" and "yes" are words here, not booleans.
    return Vocabulary(yaml.load(VOCABULARY_FILE.read_text(encoding="utf-8"), Loader=yaml.BaseLoader))


@cache
def words(key: str) -> frozenset[str]:
    return vocabulary().words(key)


@cache
def dropped_reasons() -> dict[str, str]:
    return vocabulary().dropped


@cache
def synonym_table() -> dict[str, str]:
    return vocabulary().synonyms


@cache
def table(key: str) -> dict[str, Any]:
    return dict(vocabulary().raw[key])
