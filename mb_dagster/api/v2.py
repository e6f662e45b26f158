"""The v2 endpoints: specs, plans, runs and their gate decisions."""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from mb_core.errors import InvalidState
from mb_core.models import BuildRun, BuildStatus
from mb_core.platform.planning import plan_spec
from mb_core.scheduling.admission import admit_tenant
from mb_core.store import new_build_id
from mb_core.store.platform import Principal
from mb_core.submission import spec_text_from_bytes
from mb_dagster import driver
from mb_dagster.api.documents import (
    DecisionIn,
    GenericListDocument,
    GenericResource,
    PlanAttributes,
    PlanDocument,
    PlanResource,
    RunCreate,
    RunDocument,
    RunListDocument,
    SpecCreate,
    SpecDocument,
)
from mb_dagster.api.errors import ERROR_RESPONSES
from mb_dagster.api.resources import V2, run_document, run_resource, spec_resource
from mb_dagster.api.service import (
    Auditor,
    Canceller,
    Decider,
    Planner,
    Reader,
    Runner,
    SpecCreator,
    Svc,
)

router = APIRouter(prefix=V2, responses=ERROR_RESPONSES)

ResourceId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


def _reviewer(principal: Principal) -> str:
    # The gate keeps who decided: the user's name and id, never the shell's $USER.
    return f"{principal.name} ({principal.id})"


@router.post("/specs", status_code=201, response_model=SpecDocument, tags=["v2"])
def create_spec(document: SpecCreate, principal: SpecCreator,
                svc: Svc):
    attributes = document.data.attributes
    # The same reading as `mb build`: UTF-8 prose within the size limit, not blank.
    text = spec_text_from_bytes(attributes.text.encode("utf-8", "surrogatepass"), source="the spec",
                                max_bytes=svc.env.settings.max_spec_bytes)
    svc.limit("specs", principal.tenant)
    spec = svc.platform.create_spec(principal.tenant, text, attributes.mode, principal.id)
    svc.platform.audit(principal.tenant, principal.id, "spec.create", "spec", spec.id)
    return SpecDocument(data=spec_resource(spec))


@router.get("/specs/{spec_id}", response_model=SpecDocument, tags=["v2"])
def get_spec(spec_id: ResourceId, principal: Reader,
             svc: Svc):
    return SpecDocument(data=spec_resource(svc.platform.get_spec(principal.tenant, spec_id)))


@router.post("/specs/{spec_id}/plan", response_model=PlanDocument, tags=["v2"])
def plan(spec_id: ResourceId, principal: Planner,
         svc: Svc):
    spec = svc.platform.get_spec(principal.tenant, spec_id)  # 404 before the limit counts
    svc.limit("plans", principal.tenant)
    made = plan_spec(spec.text, spec.mode)
    spec = svc.platform.record_plan(principal.tenant, spec_id, made.model_dump_json(), principal.id)
    return PlanDocument(data=PlanResource(
        id=spec.id,
        attributes=PlanAttributes(
            spec_id=spec.id, app_name=made.app_name, title=made.title,
            entities=[entity.name for entity in made.entities], endpoints=len(made.endpoints),
            files=len(made.files), risk_score=made.risk_score, risk_notes=made.risk_notes,
            planned_by=principal.id, planned_at=spec.planned_at, plan=made.model_dump(mode="json"),
        ),
        links={"self": f"{V2}/specs/{spec.id}/plan", "spec": f"{V2}/specs/{spec.id}"},
    ))


@router.post("/specs/{spec_id}/runs", status_code=202, response_model=RunDocument, tags=["v2"])
def start_run(spec_id: ResourceId, principal: Runner, svc: Svc,
              document: Annotated[RunCreate | None, Body()] = None):
    """Submit a build of the spec, exactly as `mb build --detach`: the submissions sensor starts it,
    its tier (`sla`, default MB_SLA) choosing the run's queue and priority. A tenant whose budget is
    spent is refused before anything is written."""
    spec = svc.platform.get_spec(principal.tenant, spec_id)
    svc.limit("runs", principal.tenant)
    settings = svc.env.settings
    tier = document.data.attributes.sla if document else None
    admit_tenant(svc.env.store, principal.tenant, settings.provider, os.environ)
    run = BuildRun(id=new_build_id(), tenant=principal.tenant, spec_text=spec.text, mode=spec.mode,
                   status=BuildStatus.submitted, provider=settings.provider,
                   sla=tier.value if tier else settings.sla)
    build = svc.platform.submit_run(principal.tenant, spec_id, run, principal.id)
    svc.platform.audit(principal.tenant, principal.id, "run.start", "run", build.id, detail=f"spec {spec_id}")
    return run_document(svc, principal.tenant, build.id)


@router.get("/runs/{run_id}", response_model=RunDocument, tags=["v2"])
def get_run(run_id: ResourceId, principal: Reader,
            svc: Svc):
    return run_document(svc, principal.tenant, run_id)


@router.get("/runs", response_model=RunListDocument, tags=["v2"])
def list_runs(principal: Reader, svc: Svc,
              limit: Annotated[int, Query(ge=1, le=200)] = 50,
              status: Annotated[BuildStatus | None, Query()] = None):
    builds = svc.platform.list_runs(principal.tenant, limit=limit, status=status.value if status else None)
    data = [run_resource(svc, view, with_dagster=False) for view in svc.platform.run_views(principal.tenant, builds)]
    return RunListDocument(data=data, meta={"count": len(data), "limit": limit})


def _decision(document: DecisionIn | None) -> str:
    return document.data.attributes.reason if document else ""


def _decide(svc, principal: Principal, run_id: str, action: str, call, limit: str | None = None) -> RunDocument:
    """The steps every gate decision shares: the run must be the caller's (404 first), the rate
    limit counts, `call()` asks the driver; a refusal and a success are each audited once."""
    svc.platform.get_run(principal.tenant, run_id)
    if limit:
        svc.limit(limit, principal.tenant)
    try:
        call()
    except InvalidState as exc:
        svc.platform.audit(principal.tenant, principal.id, action, "run", run_id, "refused", str(exc))
        raise
    svc.platform.audit(principal.tenant, principal.id, action, "run", run_id)
    return run_document(svc, principal.tenant, run_id)


@router.post("/runs/{run_id}/approve", response_model=RunDocument, tags=["v2"])
def approve(run_id: ResourceId, principal: Decider, svc: Svc,
            document: Annotated[DecisionIn | None, Body()] = None):
    """Approve a run waiting at the gate; the approvals sensor releases it."""
    return _decide(svc, principal, run_id, "run.approve", lambda: driver.approve(
        svc.env, None, run_id, _reviewer(principal), _decision(document), release_now=False)[0],
        limit="approvals")


@router.post("/runs/{run_id}/reject", response_model=RunDocument, tags=["v2"])
def reject(run_id: ResourceId, principal: Decider, svc: Svc,
           document: Annotated[DecisionIn | None, Body()] = None):
    return _decide(svc, principal, run_id, "run.reject", lambda: driver.reject(
        svc.env, run_id, _reviewer(principal), _decision(document)), limit="approvals")


@router.post("/runs/{run_id}/cancel", response_model=RunDocument, tags=["v2"])
def cancel(run_id: ResourceId, principal: Canceller,
           svc: Svc):
    return _decide(svc, principal, run_id, "run.cancel", lambda: driver.cancel(svc.env, run_id, svc.instance())[0])


@router.get("/audit", response_model=GenericListDocument, tags=["v2"])
def audit(principal: Auditor, svc: Svc,
          limit: Annotated[int, Query(ge=1, le=500)] = 100,
          action: Annotated[str | None, Query(max_length=64)] = None):
    entries = svc.platform.list_audit(principal.tenant, limit=limit, action=action)
    return GenericListDocument(
        data=[GenericResource(type="audit-entry", id=str(e.id),
                              attributes=e.model_dump(mode="json", exclude={"id"})) for e in entries],
        meta={"count": len(entries)},
    )
