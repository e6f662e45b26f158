from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mb_core.errors import InvalidState, UnknownBuild
from mb_core.models import BuildRun, BuildStatus, SpecMode
from mb_core.store import BUILD_ID_PATTERN, InvalidRecord, new_build_id


def test_new_build_id_is_typeable_time_sortable_and_unique():
    early = new_build_id(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    late = new_build_id(datetime(2025, 1, 2, 3, 4, 6, tzinfo=UTC))
    assert re.fullmatch(r"b20250102-030405-[0-9a-f]{8}", early)
    assert early < late
    same_second = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    ids = {new_build_id(same_second) for _ in range(300)}
    assert len(ids) == 300
    assert all(BUILD_ID_PATTERN.match(i) for i in ids)


def test_new_build_id_uses_utc():
    local = datetime(2025, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert new_build_id(local).startswith("b20250102-030405-")


def test_create_and_get_round_trip(store, clock):
    run = BuildRun(
        id="crm-7f3a2c",
        tenant="acme",
        spec_text="Build a CRM system with contacts and deals",
        mode=SpecMode.guided,
        provider="openai",
        base_build_id="b20250101-000000-aaaaaa",
        repo_path="/srv/repos/crm",
        risk_score=40,
        error=None,
        created_at=datetime(2025, 3, 14, 9, 30, 0, 123456, tzinfo=UTC),
        updated_at=datetime(2025, 3, 14, 9, 30, 1, tzinfo=UTC),
    )
    assert store.create_build(run) == run
    got = store.get_build("crm-7f3a2c")
    assert got == run
    assert got.created_at.tzinfo == UTC
    assert got.created_at.microsecond == 123456


def test_timestamps_come_back_in_utc(store):
    paris = timezone(timedelta(hours=1))
    store.create_build(
        BuildRun(
            id="b1",
            spec_text="x",
            created_at=datetime(2025, 3, 14, 10, 30, tzinfo=paris),
            # A naive time is taken as UTC already.
            updated_at=datetime(2025, 3, 14, 9, 45),
        )
    )
    got = store.get_build("b1")
    assert got.created_at == datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    assert got.created_at.utcoffset() == timedelta(0)
    assert got.updated_at == datetime(2025, 3, 14, 9, 45, tzinfo=UTC)
    assert got.updated_at.tzinfo is not None


def test_create_twice_is_refused_and_keeps_the_first(store, add_build):
    add_build("b1", spec_text="first")
    with pytest.raises(InvalidState, match="^a build named b1 already exists$"):
        store.create_build(BuildRun(id="b1", spec_text="second"))
    assert store.get_build("b1").spec_text == "first"


@pytest.mark.parametrize("bad", ["", "has space", "../up", "-lead", "x" * 65, "a/b"])
def test_malformed_build_id_is_refused_and_nothing_is_written(store, bad):
    with pytest.raises(InvalidRecord, match="is not valid"):
        store.create_build(BuildRun(id=bad, spec_text="x"))
    assert store.list_builds() == []


def test_unknown_build(store):
    with pytest.raises(UnknownBuild) as caught:
        store.get_build("nope")
    assert str(caught.value) == "no build named nope"
    for call in (
        lambda: store.delete_build("nope"),
        lambda: store.set_status("nope", BuildStatus.running),
        lambda: store.set_status("nope", BuildStatus.running, expected={BuildStatus.submitted}),
        lambda: store.set_risk("nope", 10),
    ):
        with pytest.raises(UnknownBuild, match="^no build named nope$"):
            call()


def test_list_builds_newest_first_with_filters(store, add_build):
    add_build("b1", tenant="acme")
    add_build("b2", tenant="globex", status=BuildStatus.running)
    add_build("b3", tenant="acme")
    store.transition("b3", "fail", error="tests failed")
    add_build("b4", tenant="acme")

    assert [b.id for b in store.list_builds()] == ["b4", "b3", "b2", "b1"]
    assert [b.id for b in store.list_builds(limit=2)] == ["b4", "b3"]
    assert store.list_builds(limit=0) == []
    assert [b.id for b in store.list_builds(status=BuildStatus.submitted)] == ["b4", "b1"]
    assert [b.id for b in store.list_builds(status="running")] == ["b2"]
    assert [b.id for b in store.list_builds(status={BuildStatus.running, BuildStatus.failed})] == [
        "b3",
        "b2",
    ]
    assert [b.id for b in store.list_builds(tenant="acme")] == ["b4", "b3", "b1"]
    assert [b.id for b in store.list_builds(tenant="acme", status="submitted", limit=1)] == ["b4"]
    assert store.list_builds(tenant="initech") == []


def test_list_builds_refuses_an_unknown_status(store):
    with pytest.raises(InvalidRecord, match="unknown build status 'finished'"):
        store.list_builds(status="finished")


def test_delete_build_removes_everything_it_owns(store, add_build):
    from mb_core.models import ApprovalDecision, ApprovalGate, StepStatus

    add_build("doomed")
    add_build("kept")
    for build_id in ("doomed", "kept"):
        store.start_step(build_id, "spec")
        store.finish_step(build_id, "spec", StepStatus.succeeded)
        store.put_gate(
            ApprovalGate(build_id=build_id, risk_score=70, threshold=50, decision=ApprovalDecision.pending)
        )
        store.record_exchange(build_id, "codegen", "k1", "{}", "{}", 1, 2, 0.1, 0.5, "offline", "m")

    store.delete_build("doomed")

    with pytest.raises(UnknownBuild):
        store.get_build("doomed")
    with pytest.raises(UnknownBuild):
        store.list_steps("doomed")
    with pytest.raises(UnknownBuild):
        store.list_exchanges("doomed")
    assert store.usage_totals()["total"]["calls"] == 1  # only the kept build's exchange is left
    assert len(store.list_steps("kept")) == 1
    assert store.get_gate("kept") is not None
    assert [b.id for b in store.list_builds()] == ["kept"]
    # The id is free again.
    add_build("doomed")
    assert store.list_steps("doomed") == []
    assert store.get_gate("doomed") is None


def test_set_status_unconditional_and_compare_and_set(store, add_build, clock):
    add_build("b1")
    clock.advance(10)
    assert store.set_status("b1", BuildStatus.running) is True
    got = store.get_build("b1")
    assert got.status is BuildStatus.running
    assert got.updated_at == clock.now

    assert store.set_status("b1", "failed", expected={BuildStatus.submitted}) is False
    assert store.get_build("b1").status is BuildStatus.running
    assert store.set_status("b1", BuildStatus.failed, error="tests failed", expected={"running"}) is True
    assert store.get_build("b1").error == "tests failed"
    assert store.set_status("b1", BuildStatus.running, expected=set()) is False


def test_set_status_keeps_the_error_unless_told(store, add_build):
    add_build("b1")
    store.set_status("b1", BuildStatus.failed, error="sandbox timed out")
    store.set_status("b1", BuildStatus.rolled_back)
    assert store.get_build("b1").error == "sandbox timed out"
    store.set_status("b1", BuildStatus.running, error="")
    assert store.get_build("b1").error is None


def test_set_status_refuses_an_unknown_status(store, add_build):
    add_build("b1")
    with pytest.raises(InvalidRecord, match="unknown build status 'done'"):
        store.set_status("b1", "done")
    with pytest.raises(InvalidRecord, match="unknown build status 'nope'"):
        store.set_status("b1", BuildStatus.running, expected={"nope"})


def test_set_risk(store, add_build):
    add_build("b1")
    store.set_risk("b1", 73)
    assert store.get_build("b1").risk_score == 73
    for bad in (-1, 101, 5.5, True):
        with pytest.raises(InvalidRecord, match="risk score"):
            store.set_risk("b1", bad)
    assert store.get_build("b1").risk_score == 73
