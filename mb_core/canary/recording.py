"""The canary at a build's edges: its variant when it starts, its sample when it ends.

The canary percentage and the v4 switch are read here, in one place, through the platform's flag
resolution (run > tenant > platform)."""

from __future__ import annotations

from mb_core.canary.models import CanarySample, VariantAssignment
from mb_core.canary.variants import Variant, assign_variant, randomized
from mb_core.models import BuildStatus, utcnow
from mb_core.platform.flags import resolve
from mb_core.store import Store

PERCENT_FLAG = "FEATURE_META_V4_CANARY_PERCENT"
V4_FLAG = "FEATURE_META_V4_ENABLED"

# A build counts as a success when its tests and gates passed: released, on its way, or waiting
# for a person at the approval gate (the canary measures the builder, not the reviewer).
SUCCESS_STATUSES = frozenset({BuildStatus.released, BuildStatus.releasing, BuildStatus.approved,
                              BuildStatus.awaiting_approval})


def canary_flags(store: Store, tenant: str, build_id: str) -> tuple[float | None, bool]:
    """(canary percent, or None when it was never set; whether v4 is enabled) for this build."""
    from mb_core.store.platform import PlatformStore

    values = PlatformStore(store).flag_values(tenant, build_id)
    percent, scope = resolve(values, PERCENT_FLAG, tenant, build_id)
    enabled, _ = resolve(values, V4_FLAG, tenant, build_id)
    return (None if scope is None else float(percent)), bool(enabled)


def assign_build(store: Store, build_id: str) -> VariantAssignment:
    """The build's variant, decided and recorded the first time it is asked, the same after."""
    from mb_core.store.canary import CanaryStore

    canary = CanaryStore(store)
    found = canary.variant_of(build_id)
    if found is not None:
        return found
    build = store.get_build(build_id)
    percent, enabled = canary_flags(store, build.tenant, build_id)
    return canary.assign(VariantAssignment(
        build_id=build_id, tenant=build.tenant, variant=assign_variant(build_id, percent, enabled),
        canary_percent=percent, randomized=randomized(percent, enabled), assigned_at=utcnow()))


def sample_of(store: Store, build_id: str) -> CanarySample | None:
    """What the finished build comes to as a sample (None: it has no variant, is still running or
    was cancelled)."""
    from mb_core.store.canary import CanaryStore

    assignment = CanaryStore(store).variant_of(build_id)
    build = store.get_build(build_id)
    # A cancelled build says nothing about either variant: a person stopped it.
    if assignment is None or build.status in (BuildStatus.submitted, BuildStatus.running,
                                              BuildStatus.cancelled):
        return None
    attempts = store.list_attempts(build_id)
    usage = store.usage_totals(build_id)["total"]
    return CanarySample(
        build_id=build_id, tenant=build.tenant, variant=Variant(assignment.variant),
        randomized=assignment.randomized, canary_percent=assignment.canary_percent,
        success=build.status in SUCCESS_STATUSES, status=build.status.value,
        duration_s=round(sum(a.seconds or 0.0 for a in attempts), 6),
        cost_usd=round(max(0.0, float(usage["cost_usd"])), 8), tokens=int(usage["total_tokens"]),
        iterations=max(1, len(attempts)), finished_at=utcnow())


def record_sample(store: Store, build_id: str) -> CanarySample | None:
    """Write the finished build's sample (replacing an earlier one of the same build)."""
    from mb_core.store.canary import CanaryStore

    sample = sample_of(store, build_id)
    return None if sample is None else CanaryStore(store).put_sample(sample)


def refresh_reports(store: Store, policy=None, now=None) -> list:
    """Compute and keep the canary report over every tenant's samples ("" first), then one per
    tenant with samples. Returns them in that order."""
    from mb_core.canary.report import build_report
    from mb_core.store.canary import CanaryStore

    canary = CanaryStore(store)
    now = now or utcnow()
    samples = canary.list_samples()
    reports = [build_report(samples, tenant="", now=now, policy=policy)]
    for tenant in sorted({s.tenant for s in samples}):
        reports.append(build_report([s for s in samples if s.tenant == tenant], tenant=tenant, now=now,
                                    policy=policy))
    for report in reports:
        canary.save_report(report)
    return reports


def latest_reports(store: Store) -> list:
    """The newest kept report of every tenant together ("" first) and of each tenant with samples."""
    from mb_core.store.canary import CanaryStore

    canary = CanaryStore(store)
    found = [canary.latest_report("")] + [canary.latest_report(t) for t in canary.sample_tenants()]
    return [r for r in found if r is not None]
