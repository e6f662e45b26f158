"""Circuit breakers per failure class: pybreaker's state machine over the store, on both backends.

pybreaker reads the wall clock; instead of freezing it, the tests move the recorded opening time
back, which is what the passing of the cooldown looks like to every process reading the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mb_core.breakers import BreakerSettings, breaker_state, record_outcome
from mb_core.models import BreakerState, FailureClass

SETTINGS = BreakerSettings(fail_max=3, cooldown_s=60)
F = FailureClass.llm_transient


def _cooldown_passes(store, name=F.value):
    opened = store.get_breaker(name).opened_at
    store.update_breaker(name, opened_at=opened - timedelta(seconds=61))


def test_failures_in_a_row_open_the_breaker_for_every_process(store, open_store):
    other = open_store()
    for _ in range(2):
        assert record_outcome(store, F, False, SETTINGS).state is BreakerState.closed
    record = record_outcome(other, F, False, SETTINGS)  # another process adds the third
    assert record.state is BreakerState.open and record.fail_counter == 3
    state, reopens = breaker_state(store, F, SETTINGS)
    assert state is BreakerState.open
    assert reopens == record.opened_at + timedelta(seconds=60)
    assert abs((record.opened_at - datetime.now(UTC)).total_seconds()) < 300
    # Other classes are not affected.
    assert breaker_state(store, FailureClass.tests_failed, SETTINGS) == (BreakerState.closed, None)


def test_a_success_resets_the_count_while_closed(store):
    record_outcome(store, F, False, SETTINGS)
    record_outcome(store, F, False, SETTINGS)
    assert record_outcome(store, F, True, SETTINGS).fail_counter == 0
    assert record_outcome(store, F, False, SETTINGS).state is BreakerState.closed


def test_after_the_cooldown_one_trial_closes_it(store):
    for _ in range(3):
        record_outcome(store, F, False, SETTINGS)
    _cooldown_passes(store)
    assert breaker_state(store, F, SETTINGS) == (BreakerState.half_open, None)
    record = record_outcome(store, F, True, SETTINGS)
    assert (record.state, record.fail_counter) == (BreakerState.closed, 0)


def test_a_failed_trial_opens_it_again_with_a_new_cooldown(store):
    for _ in range(3):
        record_outcome(store, F, False, SETTINGS)
    first_opened = store.get_breaker(F.value).opened_at
    _cooldown_passes(store)
    record = record_outcome(store, F, False, SETTINGS)
    assert record.state is BreakerState.open and record.opened_at > first_opened - timedelta(seconds=61)
    assert breaker_state(store, F, SETTINGS)[0] is BreakerState.open


def test_an_open_breaker_ignores_outcomes_within_its_cooldown(store):
    for _ in range(3):
        record_outcome(store, F, False, SETTINGS)
    opened = store.get_breaker(F.value).opened_at
    record = record_outcome(store, F, True, SETTINGS)
    assert (record.state, record.opened_at) == (BreakerState.open, opened)


def test_every_driver_sees_every_class_open_then_half_open_after_the_cooldown(store):
    from mb_core.breakers import BREAKER_NAMES, breaker_views

    for _ in range(3):
        record_outcome(store, F, False, SETTINGS)
    views = {v.name: v for v in breaker_views(store, SETTINGS)}
    assert views.keys() == BREAKER_NAMES  # recorded or not
    assert views[F.value].state is BreakerState.open and views[F.value].failures == 3
    assert views[F.value].reopens_at == views[F.value].opened_at + timedelta(seconds=60)
    assert {v.state for n, v in views.items() if n != F.value} == {BreakerState.closed}
    _cooldown_passes(store)
    later = {v.name: v for v in breaker_views(store, SETTINGS)}[F.value]
    assert later.state is BreakerState.half_open and later.reopens_at is None
