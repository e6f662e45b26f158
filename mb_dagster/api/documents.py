"""JSON:API-style documents: what every endpoint answers, as pydantic models (the OpenAPI schemas).

Every body has one of a few shapes: a request `{"data": {"type", "attributes"}}`, a resource
`{"type", "id", "attributes", "links"}`, and a document holding one resource or a list of them with
`meta`. Each shape is made by one function below, so only the attributes are written per resource
(the schema names stay those of the OpenAPI description: SpecCreate, SpecResource, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from mb_core.models import SpecMode
from mb_core.scheduling.tiers import SlaTier

MAX_SPEC_CHARS = 256 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------------
# The shapes
# ---------------------------------------------------------------------------------------------

def free_meta() -> tuple:
    """A document's meta when a shape says nothing else: optional and free-form."""
    return (dict[str, Any], Field(default_factory=dict))


def request_document(name: str, type_name: str, attributes: type[BaseModel]) -> type[BaseModel]:
    """`{"data": {"type": type_name, "attributes": ...}}`, nothing else allowed."""
    stem = attributes.__name__.removesuffix("AttributesIn")
    data = create_model(f"{stem}DataIn", __base__=Strict, type=(Literal[type_name], ...),
                        attributes=(attributes, ...))
    return create_model(name, __base__=Strict, data=(data, ...))


def resource(type_name: str, attributes: type[BaseModel], links: bool = True) -> type[BaseModel]:
    """`{"type": type_name, "id", "attributes", "links"}` (named after its attributes)."""
    fields: dict[str, Any] = {"type": (Literal[type_name], type_name), "id": (str, ...),
                              "attributes": (attributes, ...)}
    if links:
        fields["links"] = (dict[str, str], ...)
    return create_model(attributes.__name__.removesuffix("Attributes") + "Resource", **fields)


def document(name: str, data: type[BaseModel], meta: tuple | None = None) -> type[BaseModel]:
    """`{"data": one resource}`, with `meta` when given."""
    return create_model(name, data=(data, ...), **({"meta": meta} if meta else {}))


def list_document(name: str, data: type[BaseModel], meta: tuple | None = None) -> type[BaseModel]:
    """`{"data": [resources], "meta": {...}}`."""
    return create_model(name, data=(list[data], ...), meta=meta or free_meta())


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


class SpecAttributesIn(Strict):
    text: str = Field(min_length=1, max_length=MAX_SPEC_CHARS)
    mode: SpecMode = SpecMode.freeform


class DecisionAttributesIn(Strict):
    reason: str = Field(default="", max_length=2000)


class RunAttributesIn(Strict):
    # The service tier (queue, priority, attempts, model), as `mb build --sla`; unset: MB_SLA.
    sla: SlaTier | None = None


class FlagAttributesIn(Strict):
    scope: Literal["tenant", "run"]
    value: bool | int | float
    run_id: str = Field(default="", max_length=64)


class KeyAttributesIn(Strict):
    user_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


SpecCreate = request_document("SpecCreate", "spec", SpecAttributesIn)
DecisionIn = request_document("DecisionIn", "decision", DecisionAttributesIn)
RunCreate = request_document("RunCreate", "run", RunAttributesIn)
FlagSet = request_document("FlagSet", "flag", FlagAttributesIn)
KeyCreate = request_document("KeyCreate", "key", KeyAttributesIn)


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


class ErrorObject(BaseModel):
    status: str
    code: str
    title: str
    detail: str
    source: dict[str, str] | None = None


class ErrorDocument(BaseModel):
    errors: list[ErrorObject]


class KeyAttributes(BaseModel):
    user_id: str
    created_at: datetime
    revoked_at: datetime | None = None
    token: str | None = None  # only in the answer that created the key: it is never shown again


class SpecAttributes(BaseModel):
    text: str
    mode: SpecMode
    created_by: str
    created_at: datetime
    planned: bool


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
    sla: str
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


class TimelineAttributes(BaseModel):
    at: datetime
    kind: str
    name: str
    status: str
    detail: str


class BreakerAttributes(BaseModel):
    state: str  # closed | open | half_open, as the repair ladder sees it now
    failures: int
    successes: int
    opened_at: datetime | None
    reopens_at: datetime | None  # when an open breaker lets a trial through
    updated_at: datetime | None


class GenericResource(BaseModel):  # any type, free-form attributes (stats, flags, audit entries)
    type: str
    id: str
    attributes: dict[str, Any]


KeyResource = resource("key", KeyAttributes)
KeyDocument = document("KeyDocument", KeyResource)
KeyListDocument = list_document("KeyListDocument", KeyResource)

SpecResource = resource("spec", SpecAttributes)
SpecDocument = document("SpecDocument", SpecResource)

PlanResource = resource("plan", PlanAttributes)
PlanDocument = document("PlanDocument", PlanResource)

RunResource = resource("run", RunAttributes)
RunDocument = document("RunDocument", RunResource)
RunListDocument = list_document("RunListDocument", RunResource, meta=(dict[str, int], ...))

TimelineResource = resource("timeline-event", TimelineAttributes, links=False)
TimelineDocument = list_document("TimelineDocument", TimelineResource, meta=(dict[str, str], ...))

BreakerResource = resource("circuit-breaker", BreakerAttributes, links=False)
BreakerListDocument = list_document("BreakerListDocument", BreakerResource, meta=(dict[str, int], ...))

GenericDocument = document("GenericDocument", GenericResource, meta=free_meta())
GenericListDocument = list_document("GenericListDocument", GenericResource)
