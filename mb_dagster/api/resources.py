"""Domain records into JSON:API resources."""

from __future__ import annotations

from mb_core.store.platform import RunView, SpecRecord
from mb_dagster.api.documents import (
    AssetLink,
    DagsterRunLink,
    RunAttributes,
    RunDocument,
    RunFlag,
    RunResource,
    SpecAttributes,
    SpecResource,
)
from mb_dagster.api.service import Service

V2 = "/api/meta/v2"
V4 = "/api/meta/v4"
BUILD_ASSETS = ("spec", "plan", "diff", "eval_report", "artifact")


def spec_resource(spec: SpecRecord) -> SpecResource:
    return SpecResource(
        id=spec.id,
        attributes=SpecAttributes(text=spec.text, mode=spec.mode, created_by=spec.created_by,
                                  created_at=spec.created_at, planned=spec.plan_json is not None),
        links={"self": f"{V2}/specs/{spec.id}", "plan": f"{V2}/specs/{spec.id}/plan",
               "runs": f"{V2}/specs/{spec.id}/runs"},
    )


def dagster_runs(svc: Service, build_id: str) -> list[DagsterRunLink]:
    """The Dagster runs that built (or released) this build, newest first."""
    return [DagsterRunLink(run_id=link.run_id, job=link.job, status=link.status,
                           url=f"{svc.dagster_ui_url}/runs/{link.run_id}")
            for link in svc.dagster_runs.runs_of(build_id)]


def run_resource(svc: Service, view: RunView, with_dagster: bool = True) -> RunResource:
    build, link, gate, kept = view.build, view.link, view.gate, view.flags
    files = svc.env.assets
    assets = [
        AssetLink(key=key, partition=build.id,
                  url=f"{svc.dagster_ui_url}/assets/{key}?partition={build.id}")
        for key in BUILD_ASSETS
        if files.path(key, build.id).exists()
    ]
    return RunResource(
        id=build.id,
        attributes=RunAttributes(
            status=build.status.value, tenant=build.tenant, spec_id=link.spec_id if link else None,
            provider=build.provider, sla=build.sla, mode=build.mode.value, risk_score=build.risk_score, error=build.error,
            submitted_by=link.submitted_by if link else None,
            promoted=bool(link and link.promoted_at), created_at=build.created_at,
            updated_at=build.updated_at,
            gate=None if gate is None else gate.model_dump(mode="json", exclude={"build_id"}),
            dagster_runs=dagster_runs(svc, build.id) if with_dagster else [],
            assets=assets,
            flags=[RunFlag(key=key, value=value, source=source)
                   for key, value, source in (kept.summary() if kept else [])],
        ),
        links={"self": f"{V2}/runs/{build.id}", "timeline": f"{V4}/runs/{build.id}/timeline",
               **({"spec": f"{V2}/specs/{link.spec_id}"} if link else {})},
    )


def run_document(svc: Service, tenant: str, build_id: str) -> RunDocument:
    return RunDocument(data=run_resource(svc, svc.platform.run_view(tenant, build_id)))
