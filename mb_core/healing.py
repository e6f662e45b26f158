"""What happens when a build fails: the build is marked failed with its reason and the workspace
goes back to where the build started, so nothing half-applied is left."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from mb_core.ladder import RungLimits
from mb_core.lifecycle import BuildEvent
from mb_core.models import AttemptOutcome, BuildStatus, FailureClass, RepairAttempt, RepairPhase, RunBudget

BASE_COMMIT_FILE = "mb-base-commit"  # inside the workspace's .git/, never part of the tree


def read_base_commit(workspace: Path) -> str | None:
    marker = Path(workspace) / ".git" / BASE_COMMIT_FILE
    return marker.read_text().strip() if marker.exists() else None


def mark_base_commit(workspace: Path, commit: str) -> None:
    (Path(workspace) / ".git" / BASE_COMMIT_FILE).write_text(commit + "\n")


def rollback_workspace(workspace: Path) -> bool:
    """Puts a build's workspace back at the commit it started from. Returns whether it moved."""
    from mb_core.workspace import Workspace

    base = read_base_commit(workspace)
    if not base:
        return False
    ws = Workspace(workspace)
    if ws.head() == base:
        return False
    ws.rollback(base)
    return True


def record_build_failure(env, build_id: str, reason: str,
                         failure_class: FailureClass | None = None) -> bool:
    """Marks an active build failed and rolls its workspace back. Returns whether it moved it."""
    moved = env.store.transition(
        build_id, BuildEvent.fail, error=reason[:2000], failure_class=failure_class,
        expected={BuildStatus.running, BuildStatus.releasing, BuildStatus.submitted,
                  BuildStatus.approved, BuildStatus.awaiting_approval},
    )
    rollback_workspace(env.workspace_path(build_id))
    return moved


def restore_workspace(workspace: Path) -> bool:
    """After a lost worker: the workspace back at its base even when HEAD never moved (a killed
    `git apply` leaves files and a stale index lock behind, not a commit). Only call it when the
    worker that held the workspace is known to be gone. Returns whether there was a workspace."""
    from mb_core.workspace import Workspace

    base = read_base_commit(workspace)
    if not base:
        return False
    lock = Path(workspace) / ".git" / "index.lock"
    lock.unlink(missing_ok=True)
    Workspace(workspace).rollback(base)
    return True


# ---------------------------------------------------------------------------------------------
# The ladder's inputs as every driver reads them from the store
# ---------------------------------------------------------------------------------------------


def current_drive(attempts: list[RepairAttempt]) -> list[RepairAttempt]:
    """The attempts since the build was last built from its spec (a rerun starts a new drive)."""
    starts = [i for i, a in enumerate(attempts) if a.phase is RepairPhase.build]
    return attempts[starts[-1]:] if starts else list(attempts)


def rungs_used(attempts: list[RepairAttempt], limits: RungLimits,
               exhausted: RepairPhase | None = None,
               failure: FailureClass | None = None) -> dict[RepairPhase, int]:
    """How often each rung ran in the current drive; a rung that found nothing to change counts
    as used up. With `failure`: only the rungs run to repair that class (the attempt before each
    failed with it). A rung is bounded per class: a retry spent on another, independent fault (a
    hung sandbox, then a corrupt hunk) says nothing of whether retrying this one helps; all of
    them together stay within the build's attempts budget."""
    drive = current_drive(attempts)
    if failure is None:
        used = Counter(a.phase for a in drive if a.phase is not RepairPhase.build)
    else:
        used = Counter(after.phase for before, after in pairwise(drive)
                       if after.phase is not RepairPhase.build and before.failure_class is failure)
    if exhausted is not None and exhausted is not RepairPhase.build:
        used[exhausted] = max(used[exhausted], limits.of(exhausted))
    return dict(used)


def lost_worker_last_seen(attempt: RepairAttempt, steps, lease=None) -> datetime:
    """When a lost worker was last seen working on `attempt`: the latest start or end of a step
    of that attempt, or its lease, and never before the attempt began. A lost attempt is charged
    up to there: the time the build then sat with no worker, until the reconciler noticed, is not
    running time (and would grow with every look until the attempt was settled)."""
    seen = [attempt.started_at]
    for step in steps:
        if step.attempt == attempt.attempt:
            seen += [t for t in (step.started_at, step.finished_at) if t is not None]
    if lease is not None and lease.attempt == attempt.attempt:
        seen.append(lease.updated_at)
    return max(seen)


def with_pending_attempt(budget: RunBudget, attempts: list[RepairAttempt], now: datetime,
                         lost_at: datetime | None = None) -> RunBudget:
    """The budget as it will be once the attempt still open is closed: one more attempt and its
    running time (from its start, never from when its run was queued; up to `lost_at`, its
    worker's last sign of life, when the worker was lost)."""
    open_ = [a for a in attempts if a.outcome is AttemptOutcome.running]
    if not open_:
        return budget
    until = now if lost_at is None else min(now, lost_at)
    seconds = sum(max(0.0, (until - a.started_at).total_seconds()) for a in open_)
    return budget.model_copy(update={"attempts_used": budget.attempts_used + len(open_),
                                     "running_seconds": budget.running_seconds + seconds})


def remove_release_scratch(artifact_dir: Path, build_id: str) -> int:
    """The scratch folders a release killed before its final rename left next to the build's
    artifact folder (`.<build id>.*`); the artifact itself is never half-written. Returns how many."""
    import shutil

    parent = Path(artifact_dir).parent
    if not parent.is_dir():
        return 0
    stale = [p for p in parent.glob(f".{build_id}.*") if p.is_dir()]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return len(stale)
