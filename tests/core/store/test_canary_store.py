"""The canary's records on SQLite and PostgreSQL: variants written once, one sample per build,
the newest report per tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mb_core.canary.models import CanaryReport, CanarySample, VariantAssignment
from mb_core.canary.recording import assign_build, record_sample, sample_of
from mb_core.canary.report import build_report
from mb_core.canary.variants import Variant, assign_variant
from mb_core.errors import UnknownBuild
from mb_core.models import AttemptOutcome, BuildStatus, RepairPhase
from mb_core.store import InvalidRecord
from mb_core.store.canary import CanaryStore
from mb_core.store.platform import PlatformStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _sample(build_id: str, variant: Variant, success: bool, minute: int, tenant: str = "acme") -> CanarySample:
    return CanarySample(build_id=build_id, tenant=tenant, variant=variant, randomized=True, canary_percent=50,
                        success=success, status="released" if success else "rolled_back", duration_s=12.5,
                        cost_usd=0.01, tokens=1200, iterations=1 if variant is Variant.baseline else 2,
                        finished_at=T0 + timedelta(minutes=minute))


def test_a_variant_is_written_once_and_read_back(store, add_build):
    add_build("b1", tenant="acme")
    canary = CanaryStore(store)
    first = canary.assign(VariantAssignment(build_id="b1", tenant="acme", variant=Variant.baseline,
                                            canary_percent=50, randomized=True, assigned_at=T0))
    second = canary.assign(VariantAssignment(build_id="b1", tenant="acme", variant=Variant.v4,
                                             canary_percent=90, randomized=True, assigned_at=T0))
    assert first.variant is second.variant is Variant.baseline and second.canary_percent == 50
    assert canary.variant_of("b1") == first
    assert canary.variant_of("nope") is None
    with pytest.raises(UnknownBuild):
        canary.assign(first.model_copy(update={"build_id": "nope"}))
    store.delete_build("b1")
    assert canary.variant_of("b1") is None  # goes with its build


def test_assign_build_reads_the_percentage_through_the_flags(store, add_build):
    platform = PlatformStore(store)
    add_build("b-unset", tenant="acme")
    assert assign_build(store, "b-unset").model_dump(include={"variant", "canary_percent", "randomized"}) == {
        "variant": Variant.v4, "canary_percent": None, "randomized": False}
    platform.set_flag("FEATURE_META_V4_CANARY_PERCENT", 50, "tenant", tenant="acme")
    ids = [f"b-{n:03d}" for n in range(40)]
    for build_id in ids:
        add_build(build_id, tenant="acme")
    assigned = [assign_build(store, build_id) for build_id in ids]
    assert {a.canary_percent for a in assigned} == {50.0} and all(a.randomized for a in assigned)
    assert [a.variant for a in assigned] == [assign_variant(i, 50) for i in ids]
    assert {a.variant for a in assigned} == {Variant.v4, Variant.baseline}
    # Changing the flag later leaves an assigned build where it was.
    platform.set_flag("FEATURE_META_V4_CANARY_PERCENT", 0, "tenant", tenant="acme")
    assert [assign_build(store, i).variant for i in ids] == [a.variant for a in assigned]
    add_build("b-other", tenant="globex")  # another tenant does not see acme's value
    assert assign_build(store, "b-other").canary_percent is None


def test_a_finished_build_writes_one_sample_with_its_measures(store, add_build, clock):
    add_build("b1", tenant="acme", status=BuildStatus.running)
    assign_build(store, "b1")
    assert sample_of(store, "b1") is None  # still running
    store.start_attempt("b1", RepairPhase.build, "the first attempt")
    clock.advance(30)
    store.finish_attempt("b1", 1, AttemptOutcome.succeeded, tokens=500, cost_usd=0.02)
    store.set_status("b1", BuildStatus.awaiting_approval)  # tests and gates passed: a success
    sample = record_sample(store, "b1")
    assert sample is not None
    assert (sample.variant, sample.success, sample.iterations, sample.duration_s) == (Variant.v4, True, 1, 30.0)
    again = record_sample(store, "b1")
    assert again is not None
    assert [s.build_id for s in CanaryStore(store).list_samples()] == ["b1"]  # replaced, not added
    add_build("b2", tenant="acme", status=BuildStatus.running)
    assign_build(store, "b2")
    store.set_status("b2", BuildStatus.cancelled)
    assert record_sample(store, "b2") is None  # a person stopped it: no evidence either way
    store.set_status("b1", BuildStatus.approved)
    store.set_status("b1", BuildStatus.releasing)
    store.set_status("b1", BuildStatus.released)
    assert record_sample(store, "b1").status == "released"


def test_samples_by_tenant_and_counts(store):
    canary = CanaryStore(store)
    for n in range(6):
        canary.put_sample(_sample(f"a{n}", Variant.v4 if n % 2 else Variant.baseline, n < 4, n))
    canary.put_sample(_sample("g1", Variant.v4, False, 9, tenant="globex"))
    assert [s.build_id for s in canary.list_samples("acme")] == [f"a{n}" for n in range(6)]
    assert len(canary.list_samples()) == 7
    assert len(canary.list_samples(since=T0 + timedelta(minutes=5))) == 2
    assert canary.sample_counts() == {("acme", "baseline"): (3, 2), ("acme", "v4"): (3, 2),
                                      ("globex", "v4"): (1, 0)}
    assert canary.sample_tenants() == ["acme", "globex"]


def test_the_newest_report_of_each_tenant(store, clock):
    canary = CanaryStore(store)
    assert canary.latest_report("acme") is None
    samples = [_sample(f"a{n}", Variant.v4 if n % 2 else Variant.baseline, True, n) for n in range(4)]
    older = build_report(samples, tenant="acme", now=T0)
    newer = build_report(samples[:2], tenant="acme", now=T0 + timedelta(hours=1))
    canary.save_report(older)
    canary.save_report(newer)
    canary.save_report(build_report(samples, tenant="", now=T0))
    found = canary.latest_report("acme")
    assert isinstance(found, CanaryReport) and found.samples == 2 and found.generated_at == newer.generated_at
    assert canary.latest_report("").tenant == ""
    assert canary.latest_report("globex") is None


def test_a_bad_tenant_is_refused(store):
    with pytest.raises(InvalidRecord, match="tenant"):
        CanaryStore(store).put_sample(_sample("a1", Variant.v4, True, 0, tenant=" "))
