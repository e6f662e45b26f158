"""Whether a reviewer's decision can be recorded for a build: one pure check for every driver
(the CLI's `mb approve`/`mb reject`, the API and the UI's review jobs) before anything is written."""

from __future__ import annotations

from mb_core.models import ApprovalDecision, ApprovalGate, BuildRun, BuildStatus
from mb_core.store.tables import NAME_LENGTH as REVIEWER_CHARS  # the store keeps no longer name


def review_refusal(build: BuildRun, gate: ApprovalGate | None, reviewer: str) -> str | None:
    """None when `reviewer` may decide `build` now, else the one line that says why not."""
    if not reviewer.strip():
        return "a reviewer's name is required (config: reviewer)"
    if len(reviewer) > REVIEWER_CHARS:
        return f"the reviewer's name is longer than {REVIEWER_CHARS} characters"
    if gate is not None and gate.decision in (ApprovalDecision.approved, ApprovalDecision.rejected):
        who = f" by {gate.decided_by}" if gate.decided_by else ""
        return f"build {build.id} was already {gate.decision.value}{who}"
    if build.status != BuildStatus.awaiting_approval or gate is None \
            or gate.decision != ApprovalDecision.pending:
        return f"build {build.id} is {build.status.value}, not waiting for approval"
    return None
