"""The build lifecycle: one table of (status, event) -> status that every driver goes through.

The store enforces it: a status write names an event (or a target status that the table reaches
from the build's status), and anything the table does not allow is an `IllegalTransition`. Events
that start a new attempt (`retry`, `rerun`) raise the build's attempt number by one.
"""

from __future__ import annotations

from enum import Enum

from mb_core.errors import InvalidState
from mb_core.models import BuildStatus

S = BuildStatus


class BuildEvent(str, Enum):
    claim = "claim"  # a driver (sensor or CLI) starts a submitted build
    auto_approve = "auto_approve"  # the gate cleared the build below the risk threshold
    await_approval = "await_approval"  # the gate wants a person
    approve = "approve"
    reject = "reject"
    start_release = "start_release"  # one driver claims an approved build for its release run
    release = "release"  # the artifact is written
    retry = "retry"  # the healing ladder starts the next attempt of a running build
    fail = "fail"
    cancel = "cancel"
    roll_back = "roll_back"  # the workspace is back at its base; the build ends here
    rerun = "rerun"  # a finished build is built again from its spec (golden replays)


# A build is created waiting for a driver (submitted) or already claimed by the CLI (running).
INITIAL_STATUSES = frozenset({S.submitted, S.running})

# Statuses a build can still move on from by itself.
ACTIVE = frozenset({S.submitted, S.running, S.awaiting_approval, S.approved, S.releasing})
_RERUNNABLE = frozenset({S.released, S.rejected, S.failed, S.cancelled, S.rolled_back,
                         S.awaiting_approval, S.approved})

TRANSITIONS: dict[BuildEvent, dict[BuildStatus, BuildStatus]] = {
    BuildEvent.claim: {S.submitted: S.running},
    BuildEvent.auto_approve: {S.running: S.approved},
    BuildEvent.await_approval: {S.running: S.awaiting_approval},
    BuildEvent.approve: {S.awaiting_approval: S.approved},
    BuildEvent.reject: {S.awaiting_approval: S.rejected},
    BuildEvent.start_release: {S.approved: S.releasing},
    # A release run started by hand (`dagster asset materialize`) finds the build still approved.
    BuildEvent.release: {S.releasing: S.released, S.approved: S.released},
    BuildEvent.retry: {S.running: S.running},
    BuildEvent.fail: {status: S.failed for status in ACTIVE},
    BuildEvent.cancel: {status: S.cancelled for status in ACTIVE},
    # A failed build may still be rolled back (its reason kept); a finished one never.
    BuildEvent.roll_back: {status: S.rolled_back for status in ACTIVE | {S.failed}},
    BuildEvent.rerun: {status: S.running for status in _RERUNNABLE},
}

NEW_ATTEMPT_EVENTS = frozenset({BuildEvent.retry, BuildEvent.rerun})


class IllegalTransition(InvalidState):
    """The lifecycle does not allow this event in the build's status."""


def next_status(status: BuildStatus | str, event: BuildEvent | str) -> BuildStatus:
    """The status `event` moves a build in `status` to; `IllegalTransition` when it cannot."""
    status, event = BuildStatus(status), BuildEvent(event)
    target = TRANSITIONS[event].get(status)
    if target is None:
        raise IllegalTransition(
            f"a {status.value} build cannot {event.value.replace('_', ' ')} "
            f"(only from: {', '.join(sorted(s.value for s in TRANSITIONS[event]))})"
        )
    return target


def allowed_from(event: BuildEvent | str) -> frozenset[BuildStatus]:
    return frozenset(TRANSITIONS[BuildEvent(event)])


def event_for(current: BuildStatus | str, target: BuildStatus | str) -> BuildEvent:
    """The one event that moves `current` to `target` (status-only callers: `Store.set_status`).
    Where two events lead there (`retry` and `rerun` both reach running), the one that does not
    start a new attempt is not available: the caller must name its event."""
    current, target = BuildStatus(current), BuildStatus(target)
    events = [e for e, moves in TRANSITIONS.items() if moves.get(current) == target]
    if not events:
        raise IllegalTransition(f"a {current.value} build cannot become {target.value}")
    if len(events) > 1:
        names = ", ".join(sorted(e.value for e in events))
        raise IllegalTransition(f"{current.value} -> {target.value} is ambiguous ({names}): name the event")
    return events[0]
