"""What happens when a build fails: the build is marked failed with its reason and the workspace
goes back to where the build started, so nothing half-applied is left."""

from __future__ import annotations

from pathlib import Path

from mb_core.models import BuildStatus

BASE_COMMIT_FILE = "mb-base-commit"  # inside the workspace's .git/, never part of the tree


def read_base_commit(workspace: Path) -> str | None:
    marker = Path(workspace) / ".git" / BASE_COMMIT_FILE
    return marker.read_text().strip() if marker.exists() else None


def record_build_failure(env, build_id: str, reason: str) -> bool:
    """Marks a running build failed and rolls its workspace back. Returns whether it moved it."""
    from mb_core.workspace import Workspace

    moved = env.store.set_status(
        build_id, BuildStatus.failed, error=reason[:2000],
        expected={BuildStatus.running, BuildStatus.releasing, BuildStatus.submitted},
    )
    path = env.workspace_path(build_id)
    base = read_base_commit(path)
    if base:
        ws = Workspace(path)
        if ws.head() != base:
            ws.rollback(base)
    return moved
