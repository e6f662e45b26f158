"""What the audit log may keep: identifiers and outcomes, not personal data or secrets."""

from __future__ import annotations

import re

_PATTERNS = (
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"\bmbk_[A-Za-z0-9_-]{8,}"), "[api-key]"),
    # Grouped like cards and international numbers, so build ids (dates and times) stay readable.
    (re.compile(r"\b\d{4}(?:[ -]?\d{4}){3}\b"), "[card]"),
    (re.compile(r"\+\d[\d ()-]{7,}\d"), "[phone]"),
)

MAX_DETAIL = 500


def redact(text: str) -> str:
    """`text` with e-mail addresses, API keys, card and phone numbers replaced, cut to MAX_DETAIL."""
    for pattern, mark in _PATTERNS:
        text = pattern.sub(mark, text)
    return text[:MAX_DETAIL]
