"""JSON:API-style documents: what every endpoint answers, as pydantic models (the OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mb_core.models import SpecMode

MAX_SPEC_CHARS = 256 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


class SpecAttributesIn(Strict):
    text: str = Field(min_length=1, max_length=MAX_SPEC_CHARS)
    mode: SpecMode = SpecMode.freeform


class SpecDataIn(Strict):
    type: Literal["spec"]
    attributes: SpecAttributesIn


class SpecCreate(Strict):
    data: SpecDataIn


class DecisionAttributesIn(Strict):
    reason: str = Field(default="", max_length=2000)


class DecisionDataIn(Strict):
    type: Literal["decision"]
    attributes: DecisionAttributesIn


class DecisionIn(Strict):
    data: DecisionDataIn


class FlagAttributesIn(Strict):
    scope: Literal["tenant", "run"]
    value: bool | int | float
    run_id: str = Field(default="", max_length=64)


class FlagDataIn(Strict):
    type: Literal["flag"]
    attributes: FlagAttributesIn


class FlagSet(Strict):
    data: FlagDataIn


class KeyAttributesIn(Strict):
    user_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class KeyDataIn(Strict):
    type: Literal["key"]
    attributes: KeyAttributesIn


class KeyCreate(Strict):
    data: KeyDataIn


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


class KeyAttributes(BaseModel):
    user_id: str
    created_at: datetime
    revoked_at: datetime | None = None
    token: str | None = None  # only in the answer that created the key: it is never shown again


class KeyResource(BaseModel):
    type: Literal["key"] = "key"
    id: str
    attributes: KeyAttributes
    links: dict[str, str]


class KeyDocument(BaseModel):
    data: KeyResource


class KeyListDocument(BaseModel):
    data: list[KeyResource]
    meta: dict[str, Any] = Field(default_factory=dict)


class ErrorObject(BaseModel):
    status: str
    code: str
    title: str
    detail: str
    source: dict[str, str] | None = None


class ErrorDocument(BaseModel):
    errors: list[ErrorObject]


class SpecAttributes(BaseModel):
    text: str
    mode: SpecMode
    created_by: str
    created_at: datetime
    planned: bool


class SpecResource(BaseModel):
    type: Literal["spec"] = "spec"
    id: str
    attributes: SpecAttributes
    links: dict[str, str]


class SpecDocument(BaseModel):
    data: SpecResource


class PlanAttributes(BaseModel):
    spec_id: str
    app_name: str
    title: str
    entities: list[str]
    endpoints: int
    files: int
    risk_score: int
    risk_notes: list[str]
    planned_by: str
    planned_at: datetime
    plan: dict[str, Any]


class PlanResource(BaseModel):
    type: Literal["plan"] = "plan"
    id: str
    attributes: PlanAttributes
    links: dict[str, str]


class PlanDocument(BaseModel):
    data: PlanResource


class DagsterRunLink(BaseModel):
    run_id: str
    job: str
    status: str
    url: str


class AssetLink(BaseModel):
    key: str
    partition: str
    url: str


class RunFlag(BaseModel):
    key: str
    value: bool | int | float | None
    source: str  # env (the platform default), platform, tenant or run


class RunAttributes(BaseModel):
    status: str
    tenant: str
    spec_id: str | None
    provider: str
    mode: str
    risk_score: int | None
    error: str | None
    submitted_by: str | None
    promoted: bool
    created_at: datetime
    updated_at: datetime
    gate: dict[str, Any] | None
    dagster_runs: list[DagsterRunLink]
    assets: list[AssetLink]
    # The flag values kept with the run at submission, and where each came from.
    flags: list[RunFlag] = Field(default_factory=list)


class RunResource(BaseModel):
    type: Literal["run"] = "run"
    id: str
    attributes: RunAttributes
    links: dict[str, str]


class RunDocument(BaseModel):
    data: RunResource


class RunListDocument(BaseModel):
    data: list[RunResource]
    meta: dict[str, int]


class TimelineAttributes(BaseModel):
    at: datetime
    kind: str
    name: str
    status: str
    detail: str


class TimelineResource(BaseModel):
    type: Literal["timeline-event"] = "timeline-event"
    id: str
    attributes: TimelineAttributes


class TimelineDocument(BaseModel):
    data: list[TimelineResource]
    meta: dict[str, str]


class BreakerAttributes(BaseModel):
    state: str
    failures: int
    successes: int
    opened_at: datetime | None
    updated_at: datetime | None


class BreakerResource(BaseModel):
    type: Literal["circuit-breaker"] = "circuit-breaker"
    id: str
    attributes: BreakerAttributes


class BreakerListDocument(BaseModel):
    data: list[BreakerResource]
    meta: dict[str, int]


class GenericResource(BaseModel):
    type: str
    id: str
    attributes: dict[str, Any]


class GenericDocument(BaseModel):
    data: GenericResource
    meta: dict[str, Any] = Field(default_factory=dict)


class GenericListDocument(BaseModel):
    data: list[GenericResource]
    meta: dict[str, Any] = Field(default_factory=dict)
