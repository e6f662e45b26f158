"""The one check every driver of a reviewer's decision makes before it writes."""

from mb_core.models import ApprovalDecision, ApprovalGate, BuildRun, BuildStatus
from mb_core.review import review_refusal


def test_review_refusal_is_a_pure_decision():
    build = BuildRun(id="b1", spec_text="x", status=BuildStatus.awaiting_approval)
    pending = ApprovalGate(build_id="b1", risk_score=60, threshold=50, decision=ApprovalDecision.pending)
    assert review_refusal(build, pending, "ana") is None
    assert "required" in review_refusal(build, pending, "")
    assert "longer than" in review_refusal(build, pending, "a" * 500)
    done = pending.model_copy(update={"decision": ApprovalDecision.rejected, "decided_by": "ben"})
    assert review_refusal(build, done, "ana") == "build b1 was already rejected by ben"
    assert review_refusal(build.model_copy(update={"status": BuildStatus.released}), None, "ana") == \
        "build b1 is released, not waiting for approval"
