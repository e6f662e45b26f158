"""The v4 endpoints: promotion, a run's timeline, stats, circuit breakers, canary, chaos, flags."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from mb_core.breakers import breaker_views
from mb_core.errors import InvalidState
from mb_core.models import BreakerState
from mb_core.platform.build_flags import platform_defaults
from mb_core.platform.flags import FLAGS
from mb_core.platform.runs import TimelineEvent, ordered_timeline, promotion_refusal
from mb_core.store import observability
from mb_core.store.platform import Principal
from mb_dagster.api.documents import (
    BreakerAttributes,
    BreakerListDocument,
    BreakerResource,
    FlagSet,
    GenericDocument,
    GenericListDocument,
    GenericResource,
    RunDocument,
    TimelineAttributes,
    TimelineDocument,
    TimelineResource,
)
from mb_dagster.api.errors import ERROR_RESPONSES, ApiError
from mb_dagster.api.resources import V4, run_document
from mb_dagster.api.service import (
    Decider,
    FlagManager,
    Reader,
    Service,
    Svc,
)
from mb_dagster.api.v2 import ResourceId

router = APIRouter(prefix=V4, responses=ERROR_RESPONSES, tags=["v4"])

FlagKey = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Z0-9_]+$")]


def v4_enabled(principal: Principal, svc: Service) -> None:
    if not svc.flag("FEATURE_META_V4_ENABLED", principal.tenant):
        raise ApiError(404, "v4_disabled", f"the v4 API is not enabled for tenant {principal.tenant} "
                                           "(flag FEATURE_META_V4_ENABLED)")


def _v4_reader(principal: Reader, svc: Svc) -> Principal:
    v4_enabled(principal, svc)
    return principal


def _v4_decider(principal: Decider, svc: Svc) -> Principal:
    v4_enabled(principal, svc)
    return principal


V4Reader = Annotated[Principal, Depends(_v4_reader)]
V4Decider = Annotated[Principal, Depends(_v4_decider)]


@router.post("/runs/{run_id}/promote", response_model=RunDocument)
def promote(run_id: ResourceId, principal: V4Decider, svc: Svc):
    """Make a released run its spec's promoted release."""
    build = svc.platform.get_run(principal.tenant, run_id)
    svc.limit("approvals", principal.tenant)
    refusal = promotion_refusal(build)
    try:
        if refusal:
            raise InvalidState(refusal)
        svc.platform.promote_run(principal.tenant, run_id, principal.id)
    except InvalidState as exc:
        svc.platform.audit(principal.tenant, principal.id, "run.promote", "run", run_id, "refused", str(exc))
        raise
    svc.platform.audit(principal.tenant, principal.id, "run.promote", "run", run_id)
    return run_document(svc, principal.tenant, run_id)


@router.get("/runs/{run_id}/timeline", response_model=TimelineDocument)
def timeline(run_id: ResourceId, principal: V4Reader, svc: Svc):
    build = svc.platform.get_run(principal.tenant, run_id)
    events = [TimelineEvent(at=build.created_at, kind="submitted", name="run", status="submitted")]
    for step in svc.env.store.list_steps(run_id):
        events.append(TimelineEvent(at=step.started_at, kind="step", name=step.name, status=step.status.value,
                                    detail=step.detail))
    gate = svc.env.store.get_gate(run_id)
    if gate is not None and gate.decided_at is not None:
        events.append(TimelineEvent(at=gate.decided_at, kind="gate", name="approval", status=gate.decision.value,
                                    detail=gate.reason))
    for entry in svc.platform.list_audit(principal.tenant, limit=500, target=("run", run_id)):
        events.append(TimelineEvent(at=entry.at, kind="audit", name=entry.action, status=entry.outcome,
                                    detail=entry.detail))
    for attempt in observability.repair_attempts(svc.env.store, run_id):
        events.append(TimelineEvent(kind="repair", **attempt))
    ordered = ordered_timeline(events)
    return TimelineDocument(
        data=[TimelineResource(id=f"{run_id}-{n}", attributes=TimelineAttributes(**e.model_dump()))
              for n, e in enumerate(ordered, 1)],
        meta={"run": run_id, "status": build.status.value},
    )


@router.get("/stats", response_model=GenericDocument)
def stats(principal: V4Reader, svc: Svc):
    counts = observability.tenant_counts(svc.env.store, principal.tenant).get(principal.tenant)
    counts = counts or observability.TenantCounts()
    return GenericDocument(data=GenericResource(type="stats", id=principal.tenant, attributes={
        **counts.model_dump(),
        "runs_by_status": svc.platform.count_runs_by_status(principal.tenant),
        "usage": svc.env.store.usage_totals(tenant=principal.tenant)["total"],
    }))


@router.get("/circuit-breakers", response_model=BreakerListDocument)
def circuit_breakers(principal: V4Reader, svc: Svc):
    """Every breaker, one per failure class, in the state `mb breakers` shows."""
    breakers = breaker_views(svc.env.store)
    return BreakerListDocument(
        data=[BreakerResource(id=b.name, attributes=BreakerAttributes(
            **b.model_dump(exclude={"name", "state"}), state=b.state.value)) for b in breakers],
        meta={"open": sum(b.state is BreakerState.open for b in breakers), "count": len(breakers)},
    )


@router.get("/canary/stats", response_model=GenericDocument)
def canary_stats(principal: V4Reader, svc: Svc):
    """The tenant's latest canary report: per-variant metrics, the tests and the recommendation
    (made by the canary_report schedule or `mb canary report`), with the percentage in force."""
    from mb_core.store.canary import CanaryStore

    canary = CanaryStore(svc.env.store)
    percent = svc.flag("FEATURE_META_V4_CANARY_PERCENT", principal.tenant)
    collected = {variant: {"samples": n, "successes": ok}
                 for (tenant, variant), (n, ok) in canary.sample_counts().items() if tenant == principal.tenant}
    report = canary.latest_report(principal.tenant)
    if report is None:
        return GenericDocument(
            data=GenericResource(type="canary-stats", id=principal.tenant, attributes={
                "canary_percent": percent, "samples": sum(v["samples"] for v in collected.values()),
                "collected": collected, "variants": {}, "recommendation": None,
            }),
            meta={"available": False, "reason": "no canary report yet (the canary_report schedule or "
                                                "`mb canary report` makes one)"},
        )
    body = report.model_dump(mode="json", include={
        "generated_at", "samples", "excluded", "canary_percents", "validation", "variants", "fixed_tests",
        "intervals", "sequential", "recommendation", "reasons", "regression", "policy"})
    body["validation"].pop("expectations", None)
    return GenericDocument(
        data=GenericResource(type="canary-stats", id=principal.tenant, attributes={
            "canary_percent": percent, "collected": collected, **body}),
        meta={"available": True, "generated_at": body["generated_at"]},
    )


@router.get("/chaos/stats", response_model=GenericDocument)
def chaos_stats(principal: V4Reader, svc: Svc):
    summary = observability.chaos_summary(svc.env.store, tenant=principal.tenant)
    return GenericDocument(data=GenericResource(type="chaos-stats", id=principal.tenant, attributes={
        "enabled": svc.flag("META_V4_CHAOS_ENABLED", principal.tenant), **summary.model_dump(),
    }))


@router.get("/flags", response_model=GenericListDocument)
def flags(principal: Reader, svc: Svc,
          run_id: Annotated[str, Query(max_length=64)] = ""):
    """Every flag's value for the caller's tenant (and a run), as the OpenFeature client resolves it."""
    if run_id:
        svc.platform.get_run(principal.tenant, run_id)
    defaults = platform_defaults()
    return GenericListDocument(data=[
        GenericResource(type="flag", id=key, attributes={
            "value": svc.flag(key, principal.tenant, run_id), "default": defaults[key],
            "description": flag.description})
        for key, flag in FLAGS.items()
    ], meta={"tenant": principal.tenant, "run_id": run_id})


@router.put("/flags/{key}", response_model=GenericDocument)
def set_flag(key: FlagKey, document: FlagSet, principal: FlagManager, svc: Svc, request: Request):
    """Set a flag for the caller's tenant, or for one of its runs while that run is still
    submitted (a run keeps the values it starts with); platform values: `mb flags set`."""
    attributes = document.data.attributes
    request.state.named = {"run_id": attributes.run_id}  # another tenant's run is audited as denied
    target = f"{key}@{attributes.scope}" + (f":{attributes.run_id}" if attributes.run_id else "")
    try:
        value = svc.platform.set_flag(key, attributes.value, attributes.scope, tenant=principal.tenant,
                                      run_id=attributes.run_id, updated_by=principal.id)
    except InvalidState as exc:
        svc.platform.audit(principal.tenant, principal.id, "flag.set", "flag", target, "refused", str(exc))
        raise
    svc.platform.audit(principal.tenant, principal.id, "flag.set", "flag", target, detail=f"value {value.value}")
    return GenericDocument(data=GenericResource(type="flag", id=key, attributes=value.model_dump(mode="json")))
