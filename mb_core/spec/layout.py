"""Specs pasted from documents and tickets read as the plain lines the readers know.

A markdown heading whose words are a section title ("## Entities", "# Requirements", "Data
model") is layout, never a record: it goes. A record written as a heading ("### Customer"), a
bold name ("**Invoice**") or a bullet with sub-bullets ("- Project" over "  - name", "  - budget")
becomes one item "- Customer: name, email, phone", as are "* Bike — frame size, colour" and a
"| Field | Type |" table under a record's heading. A heading over a line that goes on with what
the record has ("# Invoice" over "Has a number and a due date.") is that line's subject.

The result has the text's length, word for word in place (only a record's name may move left on
its own line), so the requirement extractor's spans still point into the text as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mb_core.spec.vocabulary import words

_HEADING = re.compile(r"^(?P<lead>[ \t]*#{1,6}[ \t]+)(?P<title>.*?)[ \t#]*$")
_BOLD_LINE = re.compile(r"^(?P<lead>[ \t]*)\*\*(?P<title>[^*\n]{1,60}?)\*\*(?P<tail>.*)$")
_BULLET = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*+\u2022\u2023\u25e6]|\d{1,2}[.)])"
                     r"[ \t]+(?P<item>.*)$")
_TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$")
_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{2,}:?[ \t]*\|)+(?:[ \t]*:?-{2,}:?[ \t]*)?$")
# the first cell of a table's header row over a record's fields
_FIELD_HEADER = re.compile(r"^[ \t]*\|[ \t]*(?:field|fields|name|field name|column|attribute|"
                           r"property)[ \t]*\|", re.IGNORECASE)
# "Bike — frame size", "Order - date": a record's name and what it has, set apart by a dash
_DASHED = re.compile(r"^(?P<name>[A-Za-z][\w' -]{0,40}?)(?P<sep>[ \t]+[\u2014\u2013-][ \t]+|"
                     r"[ \t]*[\u2014\u2013][ \t]*)(?=\S)")
_TYPE_WORDS = (r"text|string|varchar|char|number|numeric|integer|int|decimal|float|money|"
               r"currency|amount|date|time|datetime|timestamp|yes/no|yes or no|true/false|"
               r"boolean|bool|flag|email|phone|url|link|percentage|percent|enum|list|choice|"
               r"reference|id|uuid|file|image")
_FLAG_WORDS = r"required|optional|mandatory|unique|nullable|not null|indexed|primary key"
# "(text, required)", "(decimal)", "(unique)": how a field is typed and flagged
_TYPE_GROUP = re.compile(rf"\(\s*(?:{_TYPE_WORDS}|{_FLAG_WORDS})(?:\s*,\s*(?:{_TYPE_WORDS}|"
                         rf"{_FLAG_WORDS}))*\s*\)", re.IGNORECASE)
# "number: text", "check-in date: date (unique)": a field, a colon and its type
_TYPED_FIELD = re.compile(rf"^(?P<name>[^:]+?)[ \t]*:[ \t]*(?P<type>(?:{_TYPE_WORDS})(?:[ \t]*,"
                          rf"[ \t]*(?:{_FLAG_WORDS}))*)(?=[ \t]*(?:\(|$))", re.IGNORECASE)
# a line that goes on with what its heading's record has: "Has a number, ...", "With a date"
_HAS_LINE = re.compile(r"^[ \t]*(?:has|have|holds|contains|includes|stores|keeps|records|with)\b",
                       re.IGNORECASE)
_SENTENCE_WORDS = frozenset({"can", "cannot", "can't", "must", "should", "may", "will", "shall",
                             "is", "are", "be", "belongs", "belong", "has", "have", "gets",
                             "only", "never", "each", "every", "all", "if", "when", "we", "you",
                             "they", "it", "i", "the", "a", "an", "our", "my", "your", "their",
                             "this", "these", "keeps", "tracks", "manages", "stores", "needs",
                             "wants", "includes", "handles"})


# "a number", "the total", "each item": a field may open with a determiner, a name may not
_DETERMINERS = frozenset({"each", "every", "all", "the", "a", "an", "our", "my", "your", "their",
                          "this", "these"})


def _is_section(title: str) -> bool:
    """ "Entities", "Data model", "Business rules", "Roles & permissions": a document's layout."""
    said = re.findall(r"[a-z][a-z-]*|[&/]", title.lower())
    sections, modifiers = words("section_words"), words("section_modifiers")
    return bool(said) and all(w in sections or w in modifiers for w in said) and any(
        w in sections for w in said)


def _name_like(text: str) -> bool:
    """A record's name: one to four words, no clause ("Purchase order", "Tutors")."""
    said = re.findall(r"[A-Za-z][\w'-]*", text)
    return 0 < len(said) <= 4 and len(said) == len(text.split()) and not (
        {w.lower() for w in said} & _SENTENCE_WORDS) and not _is_section(text)


def _field_like(item: str) -> bool:
    """ "full name", "budget (decimal)", "status: planned, active or closed", "number: text":
    what a record holds, not a sentence or a record of its own ("Customer: name, email")."""
    core = re.sub(r"\([^()]*\)", " ", item).strip().rstrip(".;")
    name, colon, after = core.partition(":")
    if colon and after.strip() and not (_TYPED_FIELD.match(core) or re.search(r"\bor\b", after)):
        return False
    said = re.findall(r"[a-z][\w'-]*", name.lower())
    return 0 < len(said) <= 5 and not set(said) & (_SENTENCE_WORDS - _DETERMINERS)


def _fields_listed(rest: str) -> bool:
    """ "frame size, colour, daily rate (decimal)": what follows a record's name is a list of its
    fields, not a sentence ("**Note**: only managers can refund")."""
    parts = re.sub(r"\([^()]*\)", " ", rest).split(",")
    return all(_field_like(p) or re.fullmatch(r"[\s\w'-]*\bor\b[\s\w'-]*", p) for p in parts)


@dataclass
class _Line:
    start: int  # offset of the line in the text
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


class _Layout:
    def __init__(self, text: str):
        self.out = list(text)
        self.lines: list[_Line] = []
        pos = 0
        for raw in text.split("\n"):
            self.lines.append(_Line(pos, raw))
            pos += len(raw) + 1

    def put(self, at: int, chars: str) -> None:
        self.out[at:at + len(chars)] = list(chars)

    def blank(self, start: int, end: int) -> None:
        self.put(start, " " * (end - start))

    def children(self, i: int, indent: int | None) -> list[int]:
        """The lines under line i that list what it has: deeper bullets (or, under a heading, the
        bullets and table rows that follow it, after blank lines)."""
        found: list[int] = []
        j = i + 1
        if indent is None:
            while j < len(self.lines) and not self.lines[j].text.strip():
                j += 1
        while j < len(self.lines):
            text = self.lines[j].text
            bullet = _BULLET.match(text)
            deeper = bullet is not None and (indent is None or len(bullet.group("indent")) > indent)
            if not (deeper or indent is None and _TABLE_ROW.match(text)):
                break
            found.append(j)
            j += 1
        return found

    def item_start(self, j: int) -> int | None:
        """Where the field a child line names starts, None for a table's header or rule."""
        line = self.lines[j]
        if _TABLE_ROW.match(line.text):
            if _TABLE_RULE.match(line.text) or _FIELD_HEADER.match(line.text) and j > 0 and not \
                    _TABLE_ROW.match(self.lines[j - 1].text):
                return None
            cell = re.match(r"[ \t]*\|[ \t]*", line.text)
            return line.start + cell.end()
        bullet = _BULLET.match(line.text)
        return line.start + bullet.start("item")

    def child_field(self, j: int) -> tuple[int, int, str] | None:
        """(start, end, words) of the field a child line names."""
        at = self.item_start(j)
        if at is None:
            return None
        line = self.lines[j]
        rest = line.text[at - line.start:]
        if _TABLE_ROW.match(line.text):
            rest = rest.split("|")[0]
        rest = rest.rstrip()
        return at, at + len(rest), rest

    def fields_ok(self, kids: list[int]) -> bool:
        """Every child line names a field (a table's header and rule lines aside), all at one
        depth: deeper bullets under some make those records, the line above their section."""
        depths = {len(b.group("indent")) for j in kids if (b := _BULLET.match(self.lines[j].text))}
        if len(depths) > 1:
            return False
        listed = [f for f in (self.child_field(j) for j in kids) if f is not None]
        return bool(listed) and all(_field_like(f[2].replace("**", "")) for f in listed)

    def join(self, name_end: int, kids: list[int]) -> None:
        """The record's line and its children as one line "name: a, b, c"."""
        self.put(name_end, ":")
        first = True
        cursor = name_end + 1
        for j in kids:
            line, found = self.lines[j], self.child_field(j)
            if found is None:  # a table's header or rule line
                self.blank(cursor, min(line.end + 1, len(self.out)))
                cursor = line.end + 1
                continue
            start, end, said = found
            self.blank(cursor, start)
            if not first:
                self.put(cursor, ",")
            first = False
            self.field(start, said)
            if _TABLE_ROW.match(line.text):
                self.blank(end, line.end)
            cursor = line.end

    def field(self, start: int, said: str) -> None:
        """ "number: text (unique)" -> "number (unique)": the type goes, a flag that is a rule
        stays."""
        typed = _TYPED_FIELD.match(said)
        if typed is not None:
            flags = typed.group("type")
            self.blank(start + typed.end("name"), start + typed.end())
            if re.search(r"\bunique\b", flags, re.IGNORECASE):
                self.put(start + typed.end() - len("(unique)"), "(unique)")

    def record_head(self, line: _Line, name_start: int, title: str) -> int:
        """The record's name written as a bullet "- Name" on its line (moved right when the line
        has no room before it: the line's end and the next line's bullet are joined anyway);
        where the name ends."""
        self.blank(line.start, line.end)
        at = max(line.start, name_start - 2)
        self.put(at, "- " + title)
        return at + 2 + len(title)


def plain_layout(text: str) -> str:
    """The text with its document layout read as plain lines and "Name: a, b" items."""
    if "\n" not in text and not re.search(r"\*\*|^#|\u2014|\u2013|`|\(", text):
        return text
    lay = _Layout(text)
    done: set[int] = set()
    for i, line in enumerate(lay.lines):
        if i in done:
            continue
        kids = _heading_or_bold(lay, i, line)
        if kids is None:
            kids = _bullet(lay, i, line)
        done.update(kids or [])
    plain = "".join(lay.out)
    plain = re.sub(r"\*\*(?=\S)|(?<=\S)\*\*|`", lambda m: " " * len(m.group()), plain)
    # "2) Vets can view visits": a numbered requirement is a bullet, its number no word of it
    plain = re.sub(r"(?m)^([ \t]*)(\d{1,2}[.)])(?=[ \t])",
                   lambda m: m.group(1) + " " * (len(m.group(2)) - 1) + "-", plain)
    return _TYPE_GROUP.sub(_flags_kept, plain)


def _flags_kept(m: re.Match) -> str:
    """A type group goes; "unique" stays, which the uniqueness rule reads: "(     unique)"."""
    if re.search(r"\bunique\b", m.group(), re.IGNORECASE):
        return " " * (len(m.group()) - len("(unique)")) + "(unique)"
    return " " * len(m.group())


def _heading_or_bold(lay: _Layout, i: int, line: _Line) -> list[int] | None:
    """A heading, a line-opening bold name or a short "Name:" line; the children it took, None
    when it is none of them (or is left as written)."""
    m = _HEADING.match(line.text)
    bold = None if m else _BOLD_LINE.match(line.text)
    plain = None
    if m is None and bold is None:
        plain = re.match(r"^(?P<lead>[ \t]*)(?P<title>[A-Za-z][\w' &/-]{0,40}?)[ \t]*"
                         r"(?P<colon>:)?[ \t]*$", line.text)
        if plain is None or _BULLET.match(line.text):
            return None
    found = m or bold or plain
    title = found.group("title").strip().rstrip(":").strip()
    name_start = line.start + found.start("title")
    if line.text[found.start("title"):].find(title) != 0 or "**" in title:
        return None
    tail = bold.group("tail") if bold else ""
    nxt = lay.lines[i + 1].text if i + 1 < len(lay.lines) else ""
    if _is_section(title) and not tail.strip(" \t:") and (
            m or bold or _BULLET.match(nxt) or not nxt.strip()):
        lay.blank(line.start, line.end)
        return []
    if bold is not None and tail.strip(" \t:\u2014\u2013-"):
        # "**Supplier**: name, email": a named item
        sep = re.match(r"[ \t]*(?:[:\u2014\u2013]|-(?=[ \t]))[ \t]*", tail)
        if sep is None or not _name_like(title) or not _fields_listed(tail[sep.end():]):
            return None
        rest = line.start + found.start("tail") + sep.end()
        lay.blank(line.start, rest)
        lay.put(name_start - 2, "- " + title + ":")
        return []
    if not _name_like(title):
        return None if plain else _title_line(lay, line, name_start, title)
    if plain is not None and not plain.group("colon"):
        return None
    kids = lay.children(i, None)
    if kids and not (plain and _records_listed(lay, kids)) and lay.fields_ok(kids):
        lay.join(lay.record_head(line, name_start, title), kids)
        return kids
    if plain is not None:
        return None
    if _HAS_LINE.match(nxt):
        # "# Invoice" over "Has a number": the heading is the sentence's subject
        lay.blank(line.start, name_start)
        lay.put(line.end, " ")
        first = lay.lines[i + 1].start + len(nxt) - len(nxt.lstrip())
        lay.put(first, lay.out[first].lower())
        return []
    return _title_line(lay, line, name_start, title)


def _records_listed(lay: _Layout, kids: list[int]) -> bool:
    """ "Pets:" over "- dogs", "- cats": bare plurals list records (or values), not fields."""
    said = [lay.child_field(j) for j in kids]
    items = [s[2].strip().lower() for s in said if s]
    return not items or all(re.fullmatch(r"[a-z][\w -]*[a-z]s", x) and not x.endswith(
        ("ss", "us", "is", "notes", "hours", "minutes", "details")) for x in items)


def _title_line(lay: _Layout, line: _Line, name_start: int, title: str) -> list[int]:
    """A heading that titles what follows ("# Library app"): its words, ended as a sentence."""
    lay.blank(line.start, line.end)
    lay.put(max(line.start, name_start - 1), title + ".")
    return []


def _bullet(lay: _Layout, i: int, line: _Line) -> list[int]:
    """A bulleted record: "- Project" over sub-bullets, or "* Bike — frame size, colour"."""
    bullet = _BULLET.match(line.text)
    if bullet is None:
        return []
    item_at = line.start + bullet.start("item")
    item = bullet.group("item")
    bold = re.match(r"\*\*(?P<name>[^*]{1,60}?)\*\*", item)
    name = (bold.group("name") if bold else item).strip()
    rest = item[bold.end():] if bold else ""
    if bold:
        lay.blank(item_at, item_at + bold.end())
        lay.put(item_at, name)
    kids = lay.children(i, len(bullet.group("indent")))
    colon_said = name.endswith(":") or rest.strip() == ":"
    bare = name.rstrip(":").strip()
    if kids and _name_like(bare) and not rest.strip(" \t:") and lay.fields_ok(kids):
        name_end = item_at + len(bare)
        if colon_said and not bold:
            name_end = item_at + item.index(":")
        lay.blank(name_end, line.end)
        lay.join(name_end, kids)
        return kids
    said = item if not bold else name + rest
    dashed = _DASHED.match(said)
    if dashed is not None and _name_like(dashed.group("name").strip()) and _fields_listed(
            said[dashed.end():]):
        end = dashed.group("name").rstrip()
        sep_start = item_at + len(end)
        lay.put(sep_start, ":")
        lay.blank(sep_start + 1, item_at + (dashed.end() if not bold else bold.end() + (
            dashed.end() - len(name))))
    elif bold and re.match(r"[ \t]*:", rest):
        lay.put(item_at + len(name), ":")
        lay.blank(item_at + len(name) + 1, item_at + bold.end() + rest.index(":") + 1)
    return []
