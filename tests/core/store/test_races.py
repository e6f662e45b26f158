"""Two drivers (sensor, CLI, API) working the same builds at once: each change is won once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from mb_core.errors import InvalidState
from mb_core.models import ApprovalDecision, ApprovalGate, BuildStatus


def run_together(calls):
    """Run the calls in threads released at the same moment; results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))

    def go(call):
        barrier.wait()
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each racer got
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def test_compare_and_set_has_one_winner(store, add_build, open_store):
    racers = [open_store() for _ in range(4)]
    for round_ in range(5):
        build_id = add_build(f"b{round_}").id
        results = run_together(
            [
                lambda r=r, b=build_id: r.set_status(b, BuildStatus.running, expected={BuildStatus.submitted})
                for r in racers
            ]
        )
        assert sorted(results) == [False, False, False, True]
        assert store.get_build(build_id).status is BuildStatus.running


def test_two_reviewers_one_decision(store, add_build, open_store):
    racers = [open_store(), open_store()]
    for round_ in range(5):
        build_id = add_build(f"b{round_}").id
        store.put_gate(
            ApprovalGate(build_id=build_id, risk_score=80, threshold=50, decision=ApprovalDecision.pending)
        )
        results = run_together(
            [
                lambda b=build_id: racers[0].decide(b, True, by="alice"),
                lambda b=build_id: racers[1].decide(b, False, by="bob"),
            ]
        )
        winners = [r for r in results if isinstance(r, ApprovalGate)]
        losers = [r for r in results if isinstance(r, InvalidState)]
        assert len(winners) == 1 and len(losers) == 1
        assert store.get_gate(build_id) == winners[0]
        assert f"already {winners[0].decision.value} by {winners[0].decided_by}" in str(losers[0])


@pytest.mark.parametrize("racer_count", [4])
def test_concurrent_recorders_number_exchanges_without_gaps(store, add_build, open_store, racer_count):
    add_build("b1")
    racers = [open_store() for _ in range(racer_count)]

    def record_five(racer):
        for _ in range(5):
            racer.record_exchange("b1", "codegen", "k", "{}", "{}", 1, 1, 0.0, 0.0, "offline", "m")

    results = run_together([lambda r=r: record_five(r) for r in racers])
    assert results == [None] * racer_count
    assert [e.seq for e in store.list_exchanges("b1")] == list(range(1, 5 * racer_count + 1))
