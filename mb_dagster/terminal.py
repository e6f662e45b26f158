"""What the CLI prints: text from a spec, a build or an error, made safe for a terminal.

A spec is untrusted text, and the CLI prints pieces of it (the first line in `mb list`, build
errors, step details, the spec itself). Control characters in it would reach the terminal: an
OSC sequence retitles the window or writes the clipboard, CSI moves the cursor over earlier
output, BEL rings. Every line the CLI prints goes through `say`, which shows them escaped.
"""

from __future__ import annotations

import re
import sys

import click

# C0 and C1 controls (but tab and newline), DEL, and the marks that reorder or break lines
# invisibly (bidi overrides and isolates, line and paragraph separators).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_UNSAFE_ONE_LINE = re.compile(f"[\n\t{_UNSAFE.pattern[1:-1]}]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return {9: "\\t", 10: "\\n", 13: "\\r"}.get(code) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str, one_line: bool = False) -> str:
    """`text` with every control character written as an escape (`\\x1b`, `\\x07`, `\\u202e`);
    with `one_line`, newlines and tabs too."""
    return (_UNSAFE_ONE_LINE if one_line else _UNSAFE).sub(_escaped, text)


def json_printable(text: str) -> str:
    """JSON text with the same characters written as JSON escapes (`\u001b`): still valid JSON,
    since outside its strings JSON has only ASCII punctuation, tabs and newlines."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def say(text: str, err: bool = False, nl: bool = True, one_line: bool = False,
        raw_when_piped: bool = False) -> None:
    """click.echo for text that may hold user input. `raw_when_piped` keeps the bytes as they are
    when the output is not a terminal (`mb show B diff > change.diff` stays a valid patch)."""
    stream = sys.stderr if err else sys.stdout
    if not (raw_when_piped and not stream.isatty()):
        text = printable(text, one_line=one_line)
    click.echo(text, err=err, nl=nl)


TITLE_CHARS = 60


def first_line(text: str) -> str:
    """The first non-blank line of a spec, whitespace collapsed and control characters dropped
    (the UI's run lists and `mb list` show it)."""
    for line in text.splitlines():
        line = " ".join(_UNSAFE_ONE_LINE.sub(" ", line).split())
        if line:
            return line
    return ""


def short_title(text: str, limit: int = TITLE_CHARS) -> str:
    """`first_line`, cut at `limit` characters with an ellipsis."""
    line = first_line(text)
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
