"""Reading a specification the user hands in, before anything is created for it."""

from __future__ import annotations

from pathlib import Path

from mb_core.errors import InvalidSpec

MAX_SPEC_BYTES = 256 * 1024
MAX_SPEC_WORDS = 5000  # the reader's time grows with the words; a long prose spec has a few hundred


def spec_text_from_bytes(raw: bytes, source: str = "the spec", max_bytes: int = MAX_SPEC_BYTES,
                         max_words: int = MAX_SPEC_WORDS) -> str:
    """The spec as text, or InvalidSpec with a one-line reason. Pure: no row, no file is made."""
    if len(raw) > max_bytes:
        raise InvalidSpec(
            f"{source} is {len(raw) / 1024 / 1024:.1f} MB; the limit is {max_bytes // 1024} KB "
            "(a specification is prose, not data: describe the data instead)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSpec(
            f"{source} is not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); "
            "save it as UTF-8 and try again"
        ) from None
    if "\x00" in text:
        raise InvalidSpec(f"{source} contains NUL bytes: it looks like a binary file, not a text spec")
    if not text.strip():
        raise InvalidSpec(f"{source} is empty: describe the application to build")
    words = len(text.split())
    if words > max_words:
        raise InvalidSpec(
            f"{source} has {words} words; the limit is {max_words} (MB_MAX_SPEC_WORDS): a "
            "specification is prose, not data: describe the records and a few of their fields")
    return text.strip()


def spec_text_from_file(path: Path, max_bytes: int = MAX_SPEC_BYTES,
                        max_words: int = MAX_SPEC_WORDS) -> str:
    path = Path(path)
    if not path.exists():
        raise InvalidSpec(f"spec file {path} does not exist")
    if not path.is_file():
        raise InvalidSpec(f"spec file {path} is not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise InvalidSpec(
            f"spec file {path} is {size / 1024 / 1024:.1f} MB; the limit is {max_bytes // 1024} KB "
            "(a specification is prose, not data: describe the data instead)"
        )
    return spec_text_from_bytes(path.read_bytes(), source=f"spec file {path}", max_bytes=max_bytes,
                                max_words=max_words)
