"""A view of records grouped by something ("show the sales per region") that no rule reads is
reported as not understood, even when all its words are records and fields. Phrasings written for
this test."""

import pytest

from mb_core.models import RequirementKind
from mb_core.spec import read_spec


def _unread(spec):
    return [r for r in spec.requirements if r.kind == RequirementKind.not_understood]


@pytest.mark.parametrize("text", [
    # every word is a record or a field ("per region" made a region field), yet it asks for a view
    "Keep sales with an amount. List the sales per region.",
    # a relation read between the two records does not read the grouping
    "Keep regions and sales. List sales per region.",
    "Keep visits with a date. Show the visits by month.",
    "Shops record sales with an amount. Display the sales split by shop.",
])
def test_a_grouped_view_no_rule_reads_is_reported(text):
    spec = read_spec(text)
    assert not [r for r in spec.requirements if r.kind == RequirementKind.report]
    assert [r.span.text.strip() for r in _unread(spec)] == [text.split(". ")[1].rstrip(".")]


def test_a_grouped_view_a_report_reads_is_not_reported():
    spec = read_spec("Keep regions and sales with an amount. Show the total sales per region.")
    assert [r for r in spec.requirements if r.kind == RequirementKind.report]
    assert not _unread(spec)
