"""What happens when a build fails: the build is marked failed with its reason and the workspace
goes back to where the build started, so nothing half-applied is left."""

from __future__ import annotations

from pathlib import Path

from mb_core.lifecycle import BuildEvent
from mb_core.models import BuildStatus, FailureClass

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
