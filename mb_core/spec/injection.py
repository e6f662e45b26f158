"""Instruction-like text inside a spec: found, cut out of what is read, and kept as data.

The spec is data. A sentence that tries to steer the builder ("ignore previous instructions"),
to write outside the repository ("write to /etc/passwd") or to plant credentials ("add the AWS key
AKIA...") never becomes an entity or a field; it is recorded as a dropped decision whose reason
starts with INJECTION_REASON so the security agent can flag it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INJECTION_REASON = "prompt injection"

_SECRET = re.compile(
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bsk-[A-Za-z0-9_\-]{16,}|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|\bxox[abprs]-[A-Za-z0-9\-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|\b(?:api|secret|access|aws|private)[ _-]?(?:key|token|secret)\s*[:=]\s*\S+"
    r"|\bpassword\s*[:=]\s*\S+",
    re.IGNORECASE,
)
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("instruction override", re.compile(
        r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.;\n]{0,40}?\b(?:previous|prior|"
        r"above|earlier|preceding|all|your|the|system|safety|security)\b[^.;\n]{0,20}?\b(?:"
        r"instructions?|prompts?|rules?|directions?|guidelines?|constraints?|checks?|policies)\b",
        re.IGNORECASE)),
    ("role hijack", re.compile(
        r"\byou are (?:now|no longer)\b|\bact as (?:an? )?(?:admin|root|system|developer|dan)\b"
        r"|\b(?:system|developer) prompt\b|\bjailbreak\b|\bdeveloper mode\b|\bdo anything now\b"
        r"|\bnew instructions?\s*:", re.IGNORECASE)),
    ("path outside the repository", re.compile(
        r"(?<![\w.])(?:/etc/|/root\b|/var/|/usr/|/bin/|/boot/|/proc/|/sys/|/dev/|~/|\.\./|"
        r"[A-Za-z]:\\)\S*|\.ssh/|\bid_rsa\b|\.env\b", re.IGNORECASE)),
    ("embedded credential", _SECRET),
    ("credential request", re.compile(
        r"\b(?:add|embed|include|put|hard-?code|insert|store|use|commit|paste)\b[^.;\n]{0,30}?"
        r"\b(?:aws|api|secret|access|private|ssh)\s*(?:key|token|credentials?|secret)s?\b", re.IGNORECASE)),
    ("shell command", re.compile(
        r"\brm\s+-rf\b|\b(?:curl|wget)\s+\S+|\bos\.system\b|\bsubprocess\b|\beval\(|\bexec\("
        r"|<script\b|\bdrop\s+table\b|\bchmod\s+777\b|\bsudo\b|\breverse shell\b|/bin/sh\b"
        r"|\bexfiltrat\w*|\bnc\s+-[el]", re.IGNORECASE)),
]
_CLAUSE_START = re.compile(r"(?:^|[.;!?\n]\s*|,\s*|\s+(?:and|but|then|also)\s+)", re.IGNORECASE)
# a full stop inside a URL or a file name ("evil.example/x.sh") does not end the clause
_SENTENCE_END = re.compile(r"[.;!?](?=\s|$)|\n")


@dataclass(frozen=True)
class Injection:
    kind: str
    start: int
    end: int
    excerpt: str  # redacted, at most 80 characters


def redact(text: str) -> str:
    """Credentials keep their first four characters only."""
    return _SECRET.sub(lambda m: m.group(0)[:4] + "****", text)


def find_injections(text: str) -> list[Injection]:
    """Each instruction-like clause: from its clause start to its sentence end."""
    found: list[Injection] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            starts = [c.end() for c in _CLAUSE_START.finditer(text, 0, m.start() + 1)
                      if c.end() <= m.start()]
            start = starts[-1] if starts else 0
            end_m = _SENTENCE_END.search(text, m.end())
            end = end_m.end() if end_m else len(text)
            if any(f.start <= start < f.end or start <= f.start < end for f in found):
                continue  # one decision per clause
            excerpt = " ".join(redact(text[start:end]).split())
            found.append(Injection(kind, start, end, excerpt[:77] + "..." if len(excerpt) > 80
                                   else excerpt))
    return sorted(found, key=lambda f: f.start)


def without_injections(text: str, injections: list[Injection]) -> str:
    """The text with each injected clause blanked (offsets of the rest are kept)."""
    chars = list(text)
    for inj in injections:
        for i in range(inj.start, inj.end):
            chars[i] = " " if chars[i] not in ".;!?\n" else chars[i]
    return "".join(chars)


def prose_without_injections(text: str) -> str:
    """Prose fit to ship (a title, a summary): each instruction-like clause cut out and the
    punctuation it leaves behind tidied."""
    injections = find_injections(text or "")
    if not injections:
        return text
    kept = " ".join(without_injections(text, injections).split())
    kept = re.sub(r"\s+([,.;:!?])", r"\1", kept)
    kept = re.sub(r"[,;:]+\s*(?:(?:and|but|then|also)\s*)?([.!?])", r"\1", kept)
    kept = re.sub(r"([.;!?])(?:\s*[.;!?])+", r"\1", kept)
    kept = re.sub(r"^[\s,.;:!?]+", "", kept)
    kept = re.sub(r"[\s,;:]+(?:(?:and|but|then|also)[\s,;:]*)?$", "", kept)
    return kept.strip()
