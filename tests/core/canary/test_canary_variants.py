from __future__ import annotations

import pytest

from mb_core.canary.variants import Variant, assign_variant, bucket_of, randomized, rung_limits
from mb_core.ladder import RungLimits

IDS = [f"b20260101-120000-{n:08x}" for n in range(20_000)]


def test_the_same_build_always_gets_the_same_variant():
    first = [assign_variant(i, 37) for i in IDS[:500]]
    again = [assign_variant(i, 37) for i in IDS[:500]]
    assert first == again
    assert bucket_of("b1") == bucket_of("b1") != bucket_of("b2")


@pytest.mark.parametrize("percent", [1, 10, 25, 50, 90])
def test_the_share_of_v4_follows_the_percentage(percent):
    share = sum(assign_variant(i, percent) is Variant.v4 for i in IDS) / len(IDS)
    # 20,000 draws: the standard error is at most 0.35 points; four of them is a wide margin.
    assert abs(share - percent / 100) < 0.015


def test_raising_the_percentage_only_moves_builds_to_v4():
    at_20 = {i for i in IDS if assign_variant(i, 20) is Variant.v4}
    at_50 = {i for i in IDS if assign_variant(i, 50) is Variant.v4}
    assert at_20 < at_50


def test_edges_unset_disabled_and_out_of_range():
    assert all(assign_variant(i, 0) is Variant.baseline for i in IDS[:200])
    assert all(assign_variant(i, 100) is Variant.v4 for i in IDS[:200])
    assert assign_variant("b1", None) is Variant.v4  # no canary set: everything as before
    assert assign_variant("b1", 100, v4_enabled=False) is Variant.baseline
    with pytest.raises(ValueError, match="between 0 and 100"):
        assign_variant("b1", 101)
    assert randomized(50) and not randomized(0) and not randomized(100) and not randomized(None)
    assert not randomized(50, v4_enabled=False)


def test_baseline_has_no_repair_rungs_and_v4_the_ladder():
    assert rung_limits(Variant.baseline) == RungLimits(retry=0, patch=0, replan=0)
    assert rung_limits(Variant.v4) == RungLimits()
