"""A ranking ("the top 5 customers by total spent") is reported as not built, with the reason, never
answered by a plain total or by a record named after the ranking. Phrasings written for this test."""

import pytest

from mb_core.models import RequirementKind
from mb_core.requirements.views import RANKING_REASON
from mb_core.spec import read_spec


@pytest.mark.parametrize("text, quote", [
    (("Keep clients and invoices. Each invoice belongs to a client and has an amount. Show the top "
      "10 clients by revenue."), "Show the top 10 clients by revenue"),
    (("Keep authors and books. Each book belongs to an author and has a price. List the five "
      "biggest authors by books sold."), "List the five biggest authors by books sold"),
    (("A cafe records orders with an amount. Each order is for one drink. Show the best-selling "
      "drinks."), "Show the best-selling drinks"),
])
def test_a_ranking_is_reported_not_built_as_a_total(text, quote):
    spec = read_spec(text)
    reported = [r for r in spec.requirements if r.kind == RequirementKind.not_understood
                and r.params.get("reason") == RANKING_REASON]
    assert [r.span.text for r in reported] == [quote], [r.summary for r in spec.requirements]
    assert not [r for r in spec.requirements if r.kind == RequirementKind.report
                and r.span.start <= reported[0].span.start < r.span.end]
    assert not [e.name for e in spec.entities if e.name.split("_")[0] in {"biggest", "top", "best"}]


def test_a_plain_total_is_still_a_report():
    spec = read_spec("Keep clients and invoices. Each invoice belongs to a client and has an "
                     "amount. Show the total amount per client.")
    assert [r.entity for r in spec.requirements if r.kind == RequirementKind.report] == ["invoice"]
