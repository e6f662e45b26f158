"""The reconciler's decision: is an in-flight build still being worked on, or was its worker lost?

A build in `running` or `releasing` is worked on by exactly one process: the `mb build` process
that drives it in place, or a Dagster run worker the daemon launched. That process records a lease
(its host, pid and the pid's start time, so a reused pid is not mistaken for it). The reconciler
compares the lease and the build's latest Dagster run with what the store says; a worker that is
gone (killed, crashed, its run ended or cancelled unseen) is `worker_lost`, and the ladder decides
whether the build is retried or rolled back. The decision is pure; reading /proc is the only I/O
here, in `process_start_time`.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Literal

from mb_core.models import BuildStatus, Model

IN_FLIGHT = frozenset({BuildStatus.running, BuildStatus.releasing})
# A build the store moved less than this ago may still be between its runs (a sensor about to
# request the next one): it is not called lost on the strength of a missing run alone.
DEFAULT_GRACE = timedelta(seconds=120)


class WorkerDriver(str, Enum):
    cli = "cli"  # `mb build` (or another in-process driver) running the attempt itself
    run = "run"  # a Dagster run worker launched by the daemon


class WorkerLease(Model):
    build_id: str
    attempt: int
    driver: WorkerDriver
    host: str
    pid: int
    pid_started: float | None = None  # seconds since the epoch; None where it cannot be read
    run_id: str | None = None
    updated_at: datetime


class RunState(str, Enum):
    """The build's latest Dagster run, as the reconciler needs it."""

    none = "none"
    waiting = "waiting"  # queued, not started, starting
    started = "started"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"


class ReconcileInput(Model):
    status: BuildStatus
    attempt: int
    updated_at: datetime
    now: datetime
    lease: WorkerLease | None = None
    # Whether the lease's process is alive: None when it lives on another host (cannot be seen).
    lease_alive: bool | None = None
    run: RunState = RunState.none
    run_id: str | None = None
    run_attempt: int | None = None  # the attempt the latest run was requested for (mb/attempt)
    run_by_sensor: bool = False  # requested by a sensor (the healing sensor judges its end)
    grace: timedelta = DEFAULT_GRACE


class Verdict(Model):
    kind: Literal["alive", "lost", "not_mine"]
    reason: str
    pid: int | None = None


def _lease_words(lease: WorkerLease) -> str:
    who = "the `mb build` process" if lease.driver is WorkerDriver.cli else "the run worker"
    run = f" of run {lease.run_id[:8]}" if lease.run_id else ""
    return f"{who}{run} (pid {lease.pid} on {lease.host})"


def reconcile_verdict(state: ReconcileInput) -> Verdict:
    """Alive (leave it), lost (hand it to the ladder as worker_lost), or not_mine (another sensor
    or driver owns what happens next: a finished sensor run the healing sensor judges, a build
    that is not in flight)."""
    if state.status not in IN_FLIGHT:
        return Verdict(kind="not_mine", reason=f"the build is {state.status.value}")
    lease = state.lease if state.lease is not None and state.lease.attempt == state.attempt else None
    dead = lease is not None and state.lease_alive is False
    if dead and lease.driver is WorkerDriver.cli:
        return Verdict(kind="lost", pid=lease.pid,
                       reason=f"worker lost: {_lease_words(lease)} that ran attempt #{state.attempt} is gone")
    ended = state.run in (RunState.succeeded, RunState.failed)
    if ended and state.run_by_sensor and state.run_attempt == state.attempt:
        return Verdict(kind="not_mine", reason="its run ended: the healing sensor judges it")
    if lease is not None and state.lease_alive:
        return Verdict(kind="alive", reason=f"{_lease_words(lease)} is working on attempt #{state.attempt}")
    later_or_same = state.run_attempt is None or state.run_attempt >= state.attempt
    if state.run in (RunState.waiting, RunState.started) and later_or_same:
        if dead and state.run_id is not None and lease.run_id == state.run_id:
            return Verdict(kind="lost", pid=lease.pid,
                           reason=f"worker lost: {_lease_words(lease)} died; Dagster still shows it started")
        return Verdict(kind="alive", reason=f"its run is {state.run.value}")
    if dead:
        return Verdict(kind="lost", pid=lease.pid,
                       reason=f"worker lost: {_lease_words(lease)} that ran attempt #{state.attempt} is gone")
    if state.run is RunState.canceled and later_or_same:
        return Verdict(kind="lost", reason=f"worker lost: the run of attempt #{state.attempt} was "
                                           "canceled, but the build was not")
    if lease is not None:  # on another host: its liveness cannot be seen from here
        return Verdict(kind="alive", reason=f"{_lease_words(lease)} cannot be checked from this host")
    if state.now - state.updated_at < state.grace:
        return Verdict(kind="alive", reason="moved recently: its next run may be on its way")
    return Verdict(kind="lost", reason=f"worker lost: nothing has worked on attempt #{state.attempt} "
                                       f"since {state.updated_at:%Y-%m-%d %H:%M:%S} UTC")


# The gate approves a build inside its eval_report step, but the run goes on with the blocking
# quality checks on eval_report, steps of their own: the release waits until that run ends, so a
# build never has two runs at once. Not for good: a run whose worker died unseen stays `started`.
RELEASE_WAITS_FOR_RUN = timedelta(seconds=300)


def release_may_start(attempt_runs_going: int, approved_at: datetime, now: datetime,
                      wait: timedelta = RELEASE_WAITS_FOR_RUN) -> bool:
    """Whether an approved build's release run may be requested now: none of the runs of its
    current attempt is still queued or going, or the build has been approved for `wait` already."""
    return attempt_runs_going == 0 or now - approved_at >= wait


# ---------------------------------------------------------------------------------------------
# Which process this is, and whether another one still lives
# ---------------------------------------------------------------------------------------------


def this_host() -> str:
    return socket.gethostname()


def process_start_time(pid: int) -> float | None:
    """When `pid` started (seconds since the epoch), from /proc; None when it does not exist or
    /proc cannot tell (then only the pid's existence is known)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:
        return None
    try:
        fields = stat.rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # starttime: field 22 of the whole line
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (IndexError, ValueError, StopIteration, OSError):
        return None
    return round(boot + ticks / os.sysconf("SC_CLK_TCK"), 2)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def process_alive(pid: int, started: float | None) -> bool:
    """Whether the process that took the lease still runs (a zombie does not; a pid reused by a
    process that started at another time is not the same process)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by someone else
    if _is_zombie(pid):
        return False
    if started is None:
        return True
    now_started = process_start_time(pid)
    return now_started is None or abs(now_started - started) < 1.0


def lease_alive(lease: WorkerLease | None, host: str | None = None) -> bool | None:
    if lease is None:
        return None
    if lease.host != (host or this_host()):
        return None
    return process_alive(lease.pid, lease.pid_started)
