import pytest

from mb_core.errors import InvalidSpec
from mb_core.submission import spec_text_from_bytes, spec_text_from_file


def test_plain_text_is_stripped():
    assert spec_text_from_bytes(b"  Build a CRM\n") == "Build a CRM"


@pytest.mark.parametrize("raw", [b"", b"   \n\t  "])
def test_empty_or_whitespace_is_refused(raw):
    with pytest.raises(InvalidSpec, match="empty"):
        spec_text_from_bytes(raw)


def test_five_megabytes_is_refused_with_sizes():
    with pytest.raises(InvalidSpec, match=r"5\.0 MB; the limit is 256 KB"):
        spec_text_from_bytes(b"a" * (5 * 1024 * 1024))


def test_not_utf8_names_the_byte():
    with pytest.raises(InvalidSpec, match="not UTF-8 text"):
        spec_text_from_bytes("Build a café app".encode("latin-1"))


def test_binary_is_refused():
    with pytest.raises(InvalidSpec, match="NUL"):
        spec_text_from_bytes(b"Build\x00 a thing")


def test_file_checks_size_before_reading(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (300 * 1024))
    with pytest.raises(InvalidSpec, match="big.txt is 0.3 MB"):
        spec_text_from_file(big)
    with pytest.raises(InvalidSpec, match="does not exist"):
        spec_text_from_file(tmp_path / "missing.txt")
    with pytest.raises(InvalidSpec, match="not a regular file"):
        spec_text_from_file(tmp_path)
