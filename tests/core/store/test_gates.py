from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mb_core.errors import InvalidState, UnknownBuild
from mb_core.models import ApprovalDecision, ApprovalGate
from mb_core.store import InvalidRecord


def pending(build_id: str = "b1", risk: int = 70) -> ApprovalGate:
    return ApprovalGate(build_id=build_id, risk_score=risk, threshold=50, decision=ApprovalDecision.pending)


def test_put_and_get_gate(store, add_build):
    add_build("b1")
    assert store.get_gate("b1") is None
    assert store.put_gate(pending()) == pending()
    assert store.get_gate("b1") == pending()


def test_put_gate_replaces(store, add_build):
    add_build("b1")
    store.put_gate(pending(risk=90))
    auto = ApprovalGate(
        build_id="b1",
        risk_score=20,
        threshold=50,
        decision=ApprovalDecision.auto_approved,
        decided_by="policy",
        decided_at=datetime(2025, 3, 14, 9, 0, tzinfo=UTC),
        reason="risk 20 below threshold 50",
    )
    store.put_gate(auto)
    assert store.get_gate("b1") == auto


def test_approve(store, add_build, clock):
    add_build("b1")
    store.put_gate(pending())
    gate = store.decide("b1", True, by="alice", reason="looked at the PII handling")
    assert gate.decision is ApprovalDecision.approved
    assert gate.decided_by == "alice"
    assert gate.decided_at == clock.now
    assert gate.decided_at.tzinfo is not None
    assert gate.reason == "looked at the PII handling"
    assert store.get_gate("b1") == gate


def test_reject(store, add_build):
    add_build("b1")
    store.put_gate(pending())
    assert store.decide("b1", False, by="bob").decision is ApprovalDecision.rejected


def test_second_decision_is_refused(store, add_build, clock):
    add_build("b1")
    store.put_gate(pending())
    store.decide("b1", True, by="alice")
    decided_at = clock.now
    clock.advance(60)
    with pytest.raises(InvalidState) as caught:
        store.decide("b1", False, by="bob")
    assert str(caught.value) == (f"build b1 was already approved by alice at {decided_at:%Y-%m-%dT%H:%M:%SZ}")
    assert "\n" not in str(caught.value)
    gate = store.get_gate("b1")
    assert (gate.decision, gate.decided_by) == (ApprovalDecision.approved, "alice")


def test_auto_approved_gate_takes_no_decision(store, add_build):
    add_build("b1")
    store.put_gate(
        ApprovalGate(build_id="b1", risk_score=10, threshold=50, decision=ApprovalDecision.auto_approved)
    )
    with pytest.raises(
        InvalidState, match="^build b1 was already auto-approved at .*risk 10 below threshold 50"
    ):
        store.decide("b1", True, by="alice")


def test_decide_without_gate(store, add_build):
    add_build("b1")
    with pytest.raises(InvalidState, match="^build b1 is not waiting for approval$"):
        store.decide("b1", True, by="alice")
    assert store.get_gate("b1") is None


def test_decide_needs_a_name(store, add_build):
    add_build("b1")
    store.put_gate(pending())
    with pytest.raises(InvalidRecord, match="who decides"):
        store.decide("b1", True, by="")
    assert store.get_gate("b1").decision is ApprovalDecision.pending


def test_gates_of_unknown_build(store):
    for call in (
        lambda: store.put_gate(pending("nope")),
        lambda: store.get_gate("nope"),
        lambda: store.decide("nope", True, by="alice"),
    ):
        with pytest.raises(UnknownBuild, match="^no build named nope$"):
            call()
