"""A real `mb build` process killed with SIGKILL in the middle of its build: the build is not left
`running` for good. `mb status` says its worker is lost; `mb reconcile` (what the daemon's
reconciler sensor does) retries it; the run the killed process left started is canceled, and no
process of it (a sandbox) is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus

from mb_core.models import AttemptOutcome, BuildStatus, FailureClass, RepairPhase, StepStatus
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings

MB = str(Path(sys.executable).parent / "mb")


def mb(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MB, *args], check=False, capture_output=True, text=True, timeout=900)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def _wait_for_step(env, name: str, timeout: float = 600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        builds = env.store.list_builds(limit=1)
        if builds and any(s.name == name for s in env.store.list_steps(builds[0].id)):
            return builds[0].id
        time.sleep(0.2)
    raise AssertionError(f"no build reached the {name} step")


def test_a_killed_mb_build_is_found_and_healed_by_the_reconciler(mb_home):
    env = BuildEnvironment.open(Settings.from_env())
    worker = subprocess.Popen([MB, "build", "Build a todo app with tasks and due dates"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    build_id = _wait_for_step(env, "eval_report")  # the sandbox is running the generated tests
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=60)
    assert env.store.get_build(build_id).status == BuildStatus.running  # stranded as it was

    status = mb("status", build_id)
    assert status.returncode == 0, status.stderr
    assert f"worker: worker lost: the `mb build` process (pid {worker.pid}" in status.stdout
    assert "`mb reconcile`" in status.stdout

    healed = mb("reconcile")
    assert healed.returncode == 0, healed.stdout + healed.stderr
    assert f"{build_id}: worker lost" in healed.stdout and healed.stdout.rstrip().endswith("-> released")
    build = env.store.get_build(build_id)
    assert build.status == BuildStatus.released and build.attempt == 2
    first, second = env.store.list_attempts(build_id)
    assert (first.outcome, first.failure_class) == (AttemptOutcome.failed, FailureClass.worker_lost)
    assert (second.phase, second.outcome) == (RepairPhase.retry, AttemptOutcome.succeeded)
    budget = env.store.get_budget(build_id)
    assert budget.attempts_used == 2
    assert abs(budget.running_seconds - (first.seconds + second.seconds)) < 1e-3
    # The steps the killed process left running are closed, not left in flight.
    assert not any(s.status == StepStatus.running for s in env.store.list_steps(build_id))

    os.environ["DAGSTER_HOME"] = str(env.settings.dagster_home)
    instance = DagsterInstance.get()
    runs = sorted(instance.get_runs(), key=lambda r: instance.get_run_record_by_id(r.run_id).create_timestamp)
    killed = runs[0]
    assert killed.tags.get("mb/build") == build_id and killed.status == DagsterRunStatus.CANCELED
    assert {r.job_name for r in runs[1:]} == {"build_job", "release_job"}
    assert _processes_mentioning(str(env.workspace_path(build_id))) == []

    again = mb("status", build_id)
    assert "released" in again.stdout and "worker:" not in again.stdout


def test_mb_build_notes_a_build_an_earlier_killed_process_left_in_flight(mb_home):
    from mb_core.models import BuildRun, RepairPhase
    from mb_core.reconcile import WorkerDriver
    from mb_core.store import new_build_id
    from mb_core.store.workers import take_lease

    env = BuildEnvironment.open(Settings.from_env())
    stranded = new_build_id()
    env.store.create_build(BuildRun(id=stranded, spec_text="Build a todo app with tasks",
                                    status=BuildStatus.running))
    env.store.start_attempt(stranded, RepairPhase.build)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    take_lease(env.store, stranded, 1, WorkerDriver.cli, pid=gone.pid)

    result = mb("build", "zzz qqq")  # refused at once: the note comes before its steps
    assert result.returncode != 0
    assert (f"note: build {stranded} (running): worker lost: the `mb build` process (pid {gone.pid}"
            in result.stdout), result.stdout
    assert "`mb reconcile` (or the daemon's reconciler) retries or rolls it back" in result.stdout
    assert env.store.get_build(stranded).status == BuildStatus.running  # a note, no change
