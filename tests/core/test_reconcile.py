"""The reconciler's decision (pure) over every kind of worker and run, and whether a real process
that took a lease still lives."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from mb_core.healing import current_drive, lost_worker_last_seen, rungs_used, with_pending_attempt
from mb_core.ladder import BudgetLeft, LadderInput, RungLimits, next_phase
from mb_core.models import (
    AttemptOutcome,
    BuildStatus,
    BuildStep,
    FailureClass,
    RepairAttempt,
    RepairPhase,
    RunBudget,
    StepStatus,
)
from mb_core.reconcile import (
    ReconcileInput,
    RunState,
    WorkerDriver,
    WorkerLease,
    process_alive,
    process_start_time,
    reconcile_verdict,
    release_may_start,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(minutes=10)


def lease(driver=WorkerDriver.cli, attempt=1, run_id=None) -> WorkerLease:
    return WorkerLease(build_id="b1", attempt=attempt, driver=driver, host="h", pid=4242,
                       pid_started=1.0, run_id=run_id, updated_at=OLD)


def verdict(**kw):
    base = {"status": BuildStatus.running, "attempt": 1, "updated_at": OLD, "now": NOW}
    return reconcile_verdict(ReconcileInput(**{**base, **kw}))


@pytest.mark.parametrize("kw, kind, words", [
    # A killed `mb build`: its run still shows started (in process), its lease is dead.
    ({"lease": lease(), "lease_alive": False, "run": RunState.started, "run_id": "r1"}, "lost",
     "`mb build` process (pid 4242 on h)"),
    ({"lease": lease(), "lease_alive": True, "run": RunState.started}, "alive", "is working"),
    # A run worker dead while Dagster still shows its run started.
    ({"lease": lease(WorkerDriver.run, run_id="r1"), "lease_alive": False, "run": RunState.started,
      "run_id": "r1", "run_attempt": 1, "run_by_sensor": True}, "lost", "still shows it started"),
    # Its run failed: the healing sensor judges it, not the reconciler.
    ({"lease": lease(WorkerDriver.run, run_id="r1"), "lease_alive": False, "run": RunState.failed,
      "run_id": "r1", "run_attempt": 1, "run_by_sensor": True}, "not_mine", "healing sensor"),
    # The next attempt's run is queued: the dead worker of the last one does not matter.
    ({"lease": lease(WorkerDriver.run, run_id="r1"), "lease_alive": False, "run": RunState.waiting,
      "run_id": "r2", "run_attempt": 2, "run_by_sensor": True}, "alive", "waiting"),
    ({"run": RunState.canceled, "run_id": "r1", "run_attempt": 1, "run_by_sensor": True}, "lost", "canceled"),
    ({"run": RunState.none}, "lost", "nothing has worked on attempt #1"),
    ({"run": RunState.none, "updated_at": NOW - timedelta(seconds=5)}, "alive", "moved recently"),
    ({"lease": lease(), "lease_alive": None}, "alive", "cannot be checked"),
    # A lease of an earlier attempt says nothing about this one.
    ({"attempt": 2, "lease": lease(attempt=1), "lease_alive": False, "run": RunState.started,
      "run_id": "r2"}, "alive", "started"),
    ({"status": BuildStatus.releasing, "lease": lease(), "lease_alive": False}, "lost", "is gone"),
    ({"status": BuildStatus.approved, "lease": lease(), "lease_alive": False}, "not_mine", "approved"),
    ({"status": BuildStatus.rolled_back}, "not_mine", "rolled_back"),
])
def test_reconcile_verdict(kw, kind, words):
    got = verdict(**kw)
    assert got.kind == kind and words in got.reason, got


def test_a_killed_process_is_dead_and_a_reused_pid_is_not_it():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = process_start_time(child.pid)
    assert started is not None and process_alive(child.pid, started)
    assert not process_alive(child.pid, started - 100)  # the same pid, another process's start
    child.kill()
    child.wait()
    assert not process_alive(child.pid, started)
    assert process_start_time(child.pid) is None


def _attempt(n, phase, outcome=AttemptOutcome.failed, started=OLD):
    return RepairAttempt(build_id="b1", attempt=n, phase=phase, outcome=outcome, started_at=started)


def test_rungs_used_count_the_current_drive_and_an_exhausted_rung_is_used_up():
    attempts = [_attempt(1, RepairPhase.build), _attempt(2, RepairPhase.patch),
                _attempt(3, RepairPhase.build), _attempt(4, RepairPhase.retry)]
    assert [a.attempt for a in current_drive(attempts)] == [3, 4]
    assert rungs_used(attempts, RungLimits()) == {RepairPhase.retry: 1}
    assert rungs_used(attempts, RungLimits(patch=3), exhausted=RepairPhase.patch) == {
        RepairPhase.retry: 1, RepairPhase.patch: 3}


def test_each_rung_is_bounded_per_failure_class_it_repairs():
    # A hung sandbox, retried into a corrupt hunk, retried into a hung sandbox again.
    attempts = [_attempt(1, RepairPhase.build).model_copy(update={"failure_class": FailureClass.sandbox_error}),
                _attempt(2, RepairPhase.retry).model_copy(update={"failure_class": FailureClass.diff_apply}),
                _attempt(3, RepairPhase.retry, AttemptOutcome.running)]
    limits = RungLimits()
    assert rungs_used(attempts, limits, failure=FailureClass.sandbox_error) == {RepairPhase.retry: 1}
    assert rungs_used(attempts, limits, failure=FailureClass.diff_apply) == {RepairPhase.retry: 1}
    assert rungs_used(attempts, limits, failure=FailureClass.tests_failed) == {}
    assert rungs_used(attempts, limits) == {RepairPhase.retry: 2}
    decision = next_phase(LadderInput(failure=FailureClass.sandbox_error, limits=limits,
                                      attempts=rungs_used(attempts, limits, failure=FailureClass.sandbox_error),
                                      budget=BudgetLeft(attempts=1)))
    assert (decision.phase, decision.reason) == (RepairPhase.retry, "sandbox error: retry 2 of 2")
    # Still bounded: a third sandbox error in a row has used its two retries.
    attempts[2] = attempts[2].model_copy(update={"failure_class": FailureClass.sandbox_error,
                                                  "outcome": AttemptOutcome.failed})
    attempts.append(_attempt(4, RepairPhase.retry, AttemptOutcome.running))
    assert rungs_used(attempts, limits, failure=FailureClass.sandbox_error) == {RepairPhase.retry: 2}


def test_the_open_attempt_is_charged_from_its_start_not_from_its_queueing():
    budget = RunBudget(build_id="b1", max_attempts=4, running_seconds=30.0, attempts_used=1)
    attempts = [_attempt(1, RepairPhase.build),
                _attempt(2, RepairPhase.retry, AttemptOutcome.running, started=NOW - timedelta(seconds=12))]
    pending = with_pending_attempt(budget, attempts, NOW)
    assert (pending.attempts_used, pending.running_seconds) == (2, 42.0)
    assert with_pending_attempt(budget, attempts[:1], NOW) == budget


def _step(name, attempt, started, finished=None):
    return BuildStep(build_id="b1", name=name, attempt=attempt, started_at=started, finished_at=finished,
                     status=StepStatus.succeeded if finished else StepStatus.running)


def test_a_lost_attempt_is_charged_up_to_its_workers_last_sign_of_life_however_late_it_is_noticed():
    start = NOW - timedelta(minutes=30)
    lost = _attempt(2, RepairPhase.retry, AttemptOutcome.running, started=start)
    steps = [_step("spec", 1, start - timedelta(minutes=5), start - timedelta(minutes=4)),  # attempt 1's
             _step("spec", 2, start, start + timedelta(seconds=20)),
             _step("plan", 2, start + timedelta(seconds=20))]  # the worker died in here
    seen = lost_worker_last_seen(lost, steps)
    assert seen == start + timedelta(seconds=20)
    later = lease(attempt=2).model_copy(update={"updated_at": start + timedelta(seconds=25)})
    assert lost_worker_last_seen(lost, steps, later) == start + timedelta(seconds=25)
    assert lost_worker_last_seen(lost, [], lease(attempt=1)) == start  # another attempt's lease
    budget = RunBudget(build_id="b1", max_attempts=4, running_seconds=30.0, attempts_used=1)
    for now in (NOW, NOW + timedelta(hours=2)):  # the same charge, whenever it is looked at
        pending = with_pending_attempt(budget, [_attempt(1, RepairPhase.build), lost], now, lost_at=seen)
        assert (pending.attempts_used, pending.running_seconds) == (2, 50.0)


def test_an_approved_build_is_released_once_its_build_run_ended_or_after_the_wait():
    approved_at = datetime(2026, 1, 1, tzinfo=UTC)
    # Its build run still runs the quality checks after the gate: the release waits.
    assert not release_may_start(1, approved_at, approved_at + timedelta(seconds=5))
    assert release_may_start(0, approved_at, approved_at + timedelta(seconds=5))
    # A run whose worker died unseen stays `started`: it holds the release only so long.
    assert not release_may_start(1, approved_at, approved_at + timedelta(seconds=299),
                                 wait=timedelta(seconds=300))
    assert release_may_start(1, approved_at, approved_at + timedelta(seconds=300),
                             wait=timedelta(seconds=300))
