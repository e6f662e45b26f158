"""What the scheduler reads from a real store (SQLite file): models' latency and outcomes, and the
SLA violations /metrics counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mb_core.models import BuildRun, BuildStatus, StepStatus
from mb_core.scheduling.observed import observed_models, sla_violation_counts
from mb_core.store import Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    opened = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}", clock=clock)
    opened.migrate()
    yield opened
    opened.dispose()


def _exchange(store, build_id, model, latency):
    n = len(store.list_exchanges(build_id))
    store.record_exchange(build_id, "codegen", f"k{n}", {"q": n}, {"a": n}, 10, 5, 0.001, latency,
                          "openai", model)


def test_latency_and_outcomes_per_model(store):
    for n, (model, status) in enumerate([("m-a", "released"), ("m-a", "failed"), ("m-b", "released"),
                                         ("m-b", "running")]):
        build_id = f"b{n}"
        store.create_build(BuildRun(id=build_id, spec_text="Build a shop", status=BuildStatus.running))
        _exchange(store, build_id, model, 1.0 + n)
        _exchange(store, build_id, model, 3.0 + n)
        if status == "released":
            store.transition(build_id, "auto_approve")
            store.transition(build_id, "release")
        elif status == "failed":
            store.set_status(build_id, BuildStatus.failed)
    seen = observed_models(store)
    assert seen["m-a"].calls == 4 and seen["m-a"].mean_latency_s == pytest.approx(2.5)
    assert seen["m-b"].calls == 4 and seen["m-b"].mean_latency_s == pytest.approx(4.5)
    assert (seen["m-a"].builds_finished, seen["m-a"].builds_released) == (2, 1)
    assert (seen["m-b"].builds_finished, seen["m-b"].builds_released) == (1, 1)  # running: not counted
    assert observed_models(store, provider="offline") == {}



def test_served_snapshots_count_for_the_model_a_build_was_given(store):
    # A server reports the dated snapshot it ran; the build was given the family name. The stats
    # must reach the candidate, or the choice never learns what a model did.
    for n, (served, status) in enumerate([("gpt-4o-mini-2024-07-18", "released"),
                                          ("openai/gpt-4o-mini", "failed"),
                                          ("gpt-4o-2024-08-06", "released"), ("llama3", "released")]):
        build_id = f"s{n}"
        store.create_build(BuildRun(id=build_id, spec_text="Build a shop", status=BuildStatus.running))
        _exchange(store, build_id, served, 2.0 * (n + 1))
        if n == 0:  # one build answered by two snapshots of one family counts once
            _exchange(store, build_id, "gpt-4o-mini", 2.0)
        if status == "released":
            store.transition(build_id, "auto_approve")
            store.transition(build_id, "release")
        else:
            store.set_status(build_id, BuildStatus.failed)
    seen = observed_models(store, provider="openai", candidates=["gpt-4o", "gpt-4o-mini"])
    assert set(seen) == {"gpt-4o", "gpt-4o-mini"}  # llama3 stands for no candidate
    mini = seen["gpt-4o-mini"]
    assert mini.calls == 3 and mini.mean_latency_s == pytest.approx((2.0 + 2.0 + 4.0) / 3)
    assert (mini.builds_finished, mini.builds_released) == (2, 1)
    assert (seen["gpt-4o"].calls, seen["gpt-4o"].builds_released) == (1, 1)


def test_sla_violations_are_counted_per_tier_and_measure(store, clock):
    for build_id, sla, diff_after in (("quick", "fast", 30), ("slow", "fast", 90), ("calm", "normal", 90)):
        clock.now = T0
        store.create_build(BuildRun(id=build_id, spec_text="Build a shop", sla=sla,
                                    status=BuildStatus.running, created_at=T0, updated_at=T0))
        store.start_step(build_id, "diff")
        clock.now = T0 + timedelta(seconds=diff_after)
        store.finish_step(build_id, "diff", StepStatus.succeeded)
    counts = sla_violation_counts(store, now=T0 + timedelta(seconds=100))
    # Fast: "slow" was late to its first artifact; neither fast build has been released in 100 s
    # yet, within the 180 s target. Normal: 90 s is within 300 s.
    assert counts == {("fast", "time_to_first_artifact"): 1}
    later = sla_violation_counts(store, now=T0 + timedelta(seconds=200))
    assert later == {("fast", "time_to_first_artifact"): 1, ("fast", "time_to_release"): 2}
