"""A replay re-applies a build's diff in its workspace; afterwards the workspace goes back to the
commit it held before, so a released build stays exactly as it was released."""

from __future__ import annotations

from mb_core.pipeline import BuildEnvironment
from mb_core.workspace import Workspace

HELD_HEAD_FILE = "mb-replay-held-head"


def hold_head(env: BuildEnvironment, build_id: str) -> str | None:
    """Notes the workspace's HEAD before a replay changes it (kept if a note is already there:
    a replay interrupted earlier must still restore the original)."""
    git_dir = env.workspace_path(build_id) / ".git"
    if not git_dir.exists():
        return None
    note = git_dir / HELD_HEAD_FILE
    if note.exists():
        return note.read_text().strip()
    head = Workspace(env.workspace_path(build_id)).head()
    note.write_text(head + "\n")
    return head


def restore_head(env: BuildEnvironment, build_id: str) -> None:
    note = env.workspace_path(build_id) / ".git" / HELD_HEAD_FILE
    if not note.exists():
        return
    head = note.read_text().strip()
    ws = Workspace(env.workspace_path(build_id))
    if head and ws.head() != head:
        ws.rollback(head)
    note.unlink()
