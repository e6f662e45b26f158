"""The lifecycle table itself: every status and event, what it allows and what it refuses."""

from __future__ import annotations

import pytest

from mb_core.lifecycle import (
    ACTIVE,
    NEW_ATTEMPT_EVENTS,
    TRANSITIONS,
    BuildEvent,
    IllegalTransition,
    event_for,
    next_status,
)
from mb_core.models import TERMINAL_STATUSES, BuildStatus

S, E = BuildStatus, BuildEvent


def test_every_event_has_a_row_and_active_and_terminal_partition_the_statuses():
    assert set(TRANSITIONS) == set(BuildEvent)
    assert ACTIVE | TERMINAL_STATUSES == set(BuildStatus)
    assert not ACTIVE & TERMINAL_STATUSES


@pytest.mark.parametrize("status", list(BuildStatus))
@pytest.mark.parametrize("event", list(BuildEvent))
def test_each_cell_either_moves_or_refuses_with_the_reason(status, event):
    if status in TRANSITIONS[event]:
        assert next_status(status, event) is TRANSITIONS[event][status]
    else:
        with pytest.raises(IllegalTransition, match=f"^a {status.value} build cannot"):
            next_status(status, event)


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES, key=lambda s: s.value))
def test_a_finished_build_cannot_be_cancelled_failed_or_released(terminal):
    for event in (E.cancel, E.fail, E.release, E.start_release, E.claim, E.retry):
        with pytest.raises(IllegalTransition):
            next_status(terminal, event)


def test_the_happy_path_and_the_gate():
    path = [(S.submitted, E.claim, S.running), (S.running, E.auto_approve, S.approved),
            (S.approved, E.start_release, S.releasing), (S.releasing, E.release, S.released)]
    for before, event, after in path:
        assert next_status(before, event) is after
    assert next_status(S.running, E.await_approval) is S.awaiting_approval
    assert next_status(S.awaiting_approval, E.approve) is S.approved
    assert next_status(S.awaiting_approval, E.reject) is S.rejected


def test_rollback_from_any_active_status_or_after_a_failure_but_not_after_a_release():
    for status in ACTIVE | {S.failed}:
        assert next_status(status, E.roll_back) is S.rolled_back
    for status in (S.released, S.cancelled, S.rejected, S.rolled_back):
        with pytest.raises(IllegalTransition):
            next_status(status, E.roll_back)


def test_only_retry_and_rerun_start_an_attempt():
    assert NEW_ATTEMPT_EVENTS == {E.retry, E.rerun}
    assert next_status(S.running, E.retry) is S.running
    with pytest.raises(IllegalTransition):
        next_status(S.failed, E.retry)  # a failed build is over; the ladder retries running ones


def test_event_for_a_status_change():
    assert event_for(S.submitted, S.running) is E.claim
    assert event_for(S.running, S.running) is E.retry
    assert event_for(S.failed, S.running) is E.rerun
    assert event_for(S.awaiting_approval, S.failed) is E.fail
    with pytest.raises(IllegalTransition, match="^a released build cannot become submitted$"):
        event_for(S.released, S.submitted)
    with pytest.raises(IllegalTransition, match="^a cancelled build cannot become released$"):
        event_for(S.cancelled, S.released)
