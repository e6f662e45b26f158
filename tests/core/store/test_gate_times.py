"""A gate decided by the policy records when: no 'at an unknown time' in what the store says."""

from __future__ import annotations

import pytest

from mb_core.errors import InvalidState
from mb_core.models import ApprovalDecision, ApprovalGate


def test_an_auto_approval_is_stamped_when_it_is_recorded(store, add_build):
    add_build("b1")
    store.put_gate(ApprovalGate(build_id="b1", risk_score=10, threshold=50,
                                decision=ApprovalDecision.auto_approved, decided_by="gate"))
    gate = store.get_gate("b1")
    assert gate.decided_at is not None
    with pytest.raises(InvalidState) as refused:
        store.decide("b1", True, by="alice")
    assert "unknown time" not in str(refused.value)
    assert gate.decided_at.strftime("%Y-%m-%dT%H:%M:%SZ") in str(refused.value)


def test_a_pending_gate_has_no_decision_time(store, add_build):
    add_build("b1")
    store.put_gate(ApprovalGate(build_id="b1", risk_score=70, threshold=50,
                                decision=ApprovalDecision.pending))
    assert store.get_gate("b1").decided_at is None
