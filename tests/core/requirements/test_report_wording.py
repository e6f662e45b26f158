"""Reports asked for in the words people use ("broken down by", "the revenue for each", "how many
... are in each", "a monthly revenue report"), each read on a phrasing written for this test: the
record whose rows are summed or counted, and what they are grouped by."""

import pytest

from mb_core.models import FeatureKind, RequirementKind
from mb_core.spec import read_spec


@pytest.mark.parametrize("text,entity,group", [
    (("Keep depots and deliveries with a fee. Each delivery belongs to a depot. List deliveries "
     "broken down by depot."), "delivery", "depot"),
    (("Keep stalls and orders with an amount. Each order belongs to a stall. Owners see the revenue "
     "for each stall."), "order", "stall"),
    ("Keep halls and seats. Each seat is in a hall. Show how many seats are in each hall.", "seat", "hall"),
    ("Keep kennels and dogs. Each dog belongs to a kennel. Show how many dogs each kennel has.",
     "dog", "kennel"),
])
def test_a_report_sums_or_counts_the_records_under_each_group(text, entity, group):
    spec = read_spec(text)
    report = next((r for r in spec.requirements if r.kind == RequirementKind.report), None)
    assert report is not None, [r.summary for r in spec.requirements]
    assert (report.entity, report.params["group_by"]) == (entity, group)
    feature = next(f for f in spec.features if f.kind == FeatureKind.reports and f.entity == entity)
    assert feature.options.get("per") == group


def test_a_money_report_naming_no_record_sums_the_record_with_the_money():
    spec = read_spec("Keep stalls and orders with an amount and an order date. The owner wants a "
                     "monthly revenue report.")
    report = next(r for r in spec.requirements if r.kind == RequirementKind.report)
    assert (report.entity, report.params.get("period")) == ("order", "month")
