from __future__ import annotations

import pytest

from mb_core.errors import InvalidSettings
from mb_core.models import BuildRun
from mb_core.scheduling import (
    PRIORITY_TAG,
    QUEUE_TAG,
    SLA_TAG,
    Queue,
    SlaTier,
    policy_for,
    queue_for,
    run_tags_for,
    tier_of,
)


def test_each_tier_chooses_queue_priority_and_iterations():
    fast, normal, thorough = (policy_for(t) for t in SlaTier)
    assert fast.priority > normal.priority > thorough.priority
    assert fast.max_iterations < normal.max_iterations < thorough.max_iterations
    assert fast.release_s < normal.release_s < thorough.release_s
    assert queue_for("fast", "openai") == Queue.high
    assert queue_for("thorough", "offline") == Queue.low


def test_a_normal_run_waits_on_what_it_spends_its_time_on():
    assert queue_for("normal", "offline") == Queue.cpu
    assert queue_for("normal", "openai") == Queue.llm
    assert queue_for("normal", "openai", job="release_job") == Queue.io


def test_run_tags_of_a_build():
    build = BuildRun(id="b1", spec_text="Build a shop", provider="openai", sla="fast")
    assert run_tags_for(build) == {QUEUE_TAG: "high", PRIORITY_TAG: "10", SLA_TAG: "fast"}
    old = BuildRun(id="b2", spec_text="Build a shop")  # recorded before tiers: normal
    assert run_tags_for(old, job="release_job") == {QUEUE_TAG: "io", PRIORITY_TAG: "0",
                                                    SLA_TAG: "normal"}


def test_an_unknown_tier_is_one_clear_error():
    with pytest.raises(InvalidSettings, match=r"^unknown SLA tier 'urgent' \(one of: fast, normal, thorough\)$"):
        tier_of("urgent")
    assert tier_of(None) == tier_of("") == SlaTier.normal


def test_settings_read_the_default_tier(tmp_path):
    from mb_core.settings import Settings

    assert Settings.from_env({"MB_HOME": str(tmp_path)}).sla == "normal"
    assert Settings.from_env({"MB_HOME": str(tmp_path), "MB_SLA": "thorough"}).sla == "thorough"
    with pytest.raises(InvalidSettings, match="unknown SLA tier 'soon'"):
        Settings.from_env({"MB_HOME": str(tmp_path), "MB_SLA": "soon"})


def test_the_tier_sets_the_attempts_unless_the_operator_does():
    from mb_core.slo import run_budget_from_env

    assert run_budget_from_env("b1", {}, sla="fast").max_attempts == 2
    assert run_budget_from_env("b1", {}, sla="thorough").max_attempts == 6
    assert run_budget_from_env("b1", {}).max_attempts == 4
    assert run_budget_from_env("b1", {"META_BUILDER_MAX_ITERATIONS": "1"}, sla="thorough").max_attempts == 1
