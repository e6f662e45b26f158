"""Domain models: what flows between the agents, the store and the Dagster assets.

Every model is plain pydantic so it serialises to readable JSON (the IO manager writes it as is)
and validates the output of any provider (offline rules, an LLM, a replayed bundle) the same way.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------------
# Spec: what the Product Architect reads out of the user's text
# ---------------------------------------------------------------------------------------------


class FieldType(str, Enum):
    string = "string"
    text = "text"
    integer = "integer"
    decimal = "decimal"  # money and measurements: stored as Numeric, never float
    boolean = "boolean"
    date = "date"
    datetime = "datetime"
    email = "email"
    phone = "phone"
    url = "url"
    enum = "enum"


class FieldSpec(Model):
    name: str  # snake_case column name
    type: FieldType = FieldType.string
    required: bool = False
    unique: bool = False
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    choices: list[str] = Field(default_factory=list)  # for enum fields
    default: str | None = None
    pii: bool = False
    searchable: bool = False
    description: str = ""


class RelationKind(str, Enum):
    one_to_many = "one_to_many"  # parent has many children; the child holds <parent>_id
    many_to_many = "many_to_many"


class RelationSpec(Model):
    kind: RelationKind
    parent: str  # entity name ("one" side, or the left side of many-to-many)
    child: str  # entity name ("many" side, or the right side)
    required: bool = False  # one_to_many: must the child have a parent?


class EntitySpec(Model):
    name: str  # singular snake_case: "contact", "line_item"
    plural: str  # "contacts"
    label: str = ""  # human form: "Line item"
    fields: list[FieldSpec] = Field(default_factory=list)
    description: str = ""


class Action(str, Enum):
    create = "create"
    read = "read"
    update = "update"
    delete = "delete"


class RoleSpec(Model):
    name: str
    # entity name (or "*") -> allowed actions
    permissions: dict[str, list[Action]] = Field(default_factory=dict)
    description: str = ""


class FeatureKind(str, Enum):
    """A rule or view the generator implements for one entity; `FeatureSpec.options` by kind:

    - search: {"fields": [...]} text columns `?q=` searches (default: the text columns); enum,
      boolean and foreign-key columns are exact filters on the list endpoint.
    - status_workflow: {"field": "stage", "states": [...], "initial": "open",
      "transitions": {"open": ["won", "lost"]} or [["open", "won"], ...],
      "actions": {"approve": {"from": ["pending"], "to": "approved", "roles": ["manager"]}},
      "locked": ["paid"]}.
      Only the listed transitions are allowed (409 otherwise); without `transitions` each state
      moves only to the next one in `states`. Each action is a `POST /{plural}/{id}/{action}`.
      A row in a `locked` state may no longer be changed: `PATCH` is refused with 409.
    - assignment: {"field": "assignee_id"} rows assigned to a user id (`POST /{id}/assign`).
    - scheduling: {"start": "starts_at", "end": "ends_at", "resource": "room_id"} no two rows of
      the same resource may overlap (409); touching intervals and other resources are fine.
    - reports: {"group_by": "stage" | "donor" (a parent entity or its `<parent>_id`) | [...],
      "measure": "amount" (or "sum": [...]), "agg": "sum" | "count" | "avg",
      "period": "day" | "month", "date": "donated_on"} counts and totals per group
      (`GET /{plural}/report`) and, with `period`, per day or month (`GET /{plural}/report/series`).
    - csv_export: {} `GET /{plural}/export.csv`, a header row and one row per record.
    - capacity: {"parent": "class_session", "limit_field": "capacity"} or {"parent": ...,
      "limit": 20}: at most that many rows of this entity per parent row (409 beyond it).
    - date_order: {"start": "starts_on", "end": "ends_on", "allow_equal": true} end after start
      (422); equal is allowed for dates and refused for datetimes unless `allow_equal` says.
    - value_range: {"field": "rating", "min": 1, "max": 5} values outside the range are 422
      (FieldSpec.min_value / max_value give the same rule).
    - due_overdue: {"due": "due_on", "done_field": "returned"} or {"due": ..., "done_field":
      "status", "done_values": ["returned"]}: `GET /{plural}/overdue?as_of=` lists the rows past
      their due date that are not done.
    """

    search = "search"
    status_workflow = "status_workflow"
    assignment = "assignment"
    scheduling = "scheduling"
    reports = "reports"
    csv_export = "csv_export"
    capacity = "capacity"
    date_order = "date_order"
    value_range = "value_range"
    due_overdue = "due_overdue"


class FeatureSpec(Model):
    kind: FeatureKind
    entity: str
    options: dict[str, Any] = Field(default_factory=dict)  # by kind: see FeatureKind


class NounDecision(Model):
    phrase: str
    decision: Literal["entity", "field", "dropped"]
    reason: str


class SpecMode(str, Enum):
    freeform = "freeform"
    guided = "guided"


class RequirementKind(str, Enum):
    entity = "entity"
    field = "field"
    relation = "relation"
    value_list = "value_list"
    role = "role"
    rule = "rule"
    report = "report"
    export = "export"
    search_filter = "search_filter"
    workflow = "workflow"
    # a clause that states a requirement (must, can, only, at most, ...) no rule could read:
    # reported, never dropped (mb_core.requirements.unread)
    not_understood = "not_understood"


class RuleKind(str, Enum):
    uniqueness = "uniqueness"
    no_overlap = "no_overlap"
    capacity = "capacity"
    state_machine = "state_machine"
    date_order = "date_order"
    due_overdue = "due_overdue"
    value_range = "value_range"
    length_limit = "length_limit"  # a text field's longest length, in characters
    edit_lock = "edit_lock"  # a row in one of some states may no longer be changed


class TextSpan(Model):
    start: int  # character offsets into the spec text, end exclusive
    end: int
    text: str  # the quoted words, text[start:end]


class Requirement(Model):
    """One explicit thing the spec asks for, with the words that ask for it."""

    id: str  # "R3": stable within one spec
    kind: RequirementKind
    rule: RuleKind | None = None  # for kind == rule
    span: TextSpan
    entity: str | None = None
    field: str | None = None
    type: FieldType | None = None
    values: list[str] = Field(default_factory=list)  # allowed values, or the states in order
    # relation: one_to_many (owner = the "one" side, the parent) or many_to_many
    cardinality: RelationKind | None = None
    owner: str | None = None
    other: str | None = None
    role: str | None = None
    actions: list[Action] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)  # rule settings: transitions, limits, ...
    summary: str = ""  # one line a reader understands


class ImplementedElement(Model):
    """One thing the generated code implements, where, and the generated tests that exercise it.

    Keys: `entity:<e>`, `field:<e>.<f>`, `choices:<e>.<f>`, `unique:<e>.<f>`,
    `relation:<parent>-><child>` (one-to-many), `relation:<a><-><b>` (many-to-many),
    `feature:<kind>:<e>` (a FeatureKind value), `role:<role>:<e>:<action>` (create, read, update,
    delete or a workflow action name; `not_<action>`: the role is refused it). `tests` are pytest
    node ids of the generated suite.
    """

    key: str
    files: list[str] = Field(default_factory=list)
    tests: list[str] = Field(default_factory=list)
    note: str = ""


class RequirementStatus(str, Enum):
    met = "met"  # implemented, and every test that exercises it passed
    failed = "failed"  # implemented, but a test that exercises it failed or did not run
    untested = "untested"  # implemented, but no generated test exercises it
    not_implemented = "not_implemented"


class RequirementTrace(Model):
    """One row of the traceability table: requirement -> plan elements -> files -> tests."""

    requirement: str  # the requirement's id
    kind: str  # "relation", "rule:no_overlap", ...
    quote: str
    summary: str = ""
    elements: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    tests: list[str] = Field(default_factory=list)
    status: RequirementStatus
    reason: str = ""


class ScaffoldSpec(Model):
    mode: SpecMode = SpecMode.freeform
    text: str
    title: str
    app_name: str  # python-safe package-ish name: "crm"
    summary: str = ""
    entities: list[EntitySpec] = Field(default_factory=list)
    relations: list[RelationSpec] = Field(default_factory=list)
    roles: list[RoleSpec] = Field(default_factory=list)
    features: list[FeatureSpec] = Field(default_factory=list)
    decisions: list[NounDecision] = Field(default_factory=list)
    external_services: list[str] = Field(default_factory=list)  # named APIs the text asks for
    requirements: list[Requirement] = Field(default_factory=list)  # what the text explicitly asks
    # A base build's spec, when this is an incremental build ("Add invoices linked to deals").
    base_build_id: str | None = None


# ---------------------------------------------------------------------------------------------
# Plan: what the System Designer and Security/Compliance turn the spec into
# ---------------------------------------------------------------------------------------------


class EndpointSpec(Model):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    entity: str | None = None
    action: str  # list, get, create, update, delete, export, report, transition, health...
    roles: list[str] = Field(default_factory=list)
    summary: str = ""


class SecurityControl(Model):
    name: str  # rbac, tenant_scoping, pii_redaction, rate_limit, audit_log, ...
    description: str
    applies_to: list[str] = Field(default_factory=list)


class RiskFlag(str, Enum):
    pii = "pii"
    money = "money"
    auth = "auth"
    uploads = "uploads"
    external_calls = "external_calls"
    health_data = "health_data"
    destructive = "destructive"
    prompt_injection = "prompt_injection"
    # Found in the generated tree itself (mb_core.evaluation.tree_review, .ci_review).
    verdict_tampering = "verdict_tampering"  # pytest machinery that can alter test reports
    tool_shadowing = "tool_shadowing"  # a module shadowing a tool, an interpreter start-up hook
    ci_network = "ci_network"  # a CI file calls an outside host
    ci_secrets = "ci_secrets"  # a CI command reads repository secrets
    ci_pull_request_target = "ci_pull_request_target"  # CI runs on forks' PRs with secrets
    ci_permissions = "ci_permissions"  # a CI job asks for write permissions


class MigrationRevision(Model):
    """One Alembic revision. A build's first revision creates its tables; an incremental build
    appends a revision for what it adds, so the base build's migrations stay as they were."""

    revision: str  # "0001"
    message: str
    tables: list[str] = Field(default_factory=list)  # entities created here
    columns: dict[str, list[str]] = Field(default_factory=dict)  # entity -> columns added here
    link_tables: list[str] = Field(default_factory=list)  # many-to-many association tables


class ScaffoldPlan(Model):
    app_name: str
    title: str
    summary: str = ""
    entities: list[EntitySpec]
    relations: list[RelationSpec] = Field(default_factory=list)
    endpoints: list[EndpointSpec] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)  # paths the codegen will write
    roles: list[RoleSpec] = Field(default_factory=list)
    features: list[FeatureSpec] = Field(default_factory=list)
    security_controls: list[SecurityControl] = Field(default_factory=list)
    risk_score: int = 0  # 0-100
    risk_flags: list[RiskFlag] = Field(default_factory=list)
    risk_notes: list[str] = Field(default_factory=list)
    decisions: list[NounDecision] = Field(default_factory=list)
    external_services: list[str] = Field(default_factory=list)
    migrations: list[MigrationRevision] = Field(default_factory=list)
    base_build_id: str | None = None
    requirements: list[Requirement] = Field(default_factory=list)
    # requirement id -> the plan element keys that implement it (see ImplementedElement.key);
    # a requirement with no key is listed in `unplanned` with the reason
    requirement_elements: dict[str, list[str]] = Field(default_factory=dict)
    unplanned: dict[str, str] = Field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Generated code, diff, evaluation, release
# ---------------------------------------------------------------------------------------------




class GeneratedFile(Model):
    path: str  # relative POSIX path inside the target repository
    content: str


class GeneratedFiles(Model):
    """What the Codegen Engineer, the DevOps agent and the Auto-Fixer answer with."""

    files: list[GeneratedFile] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DiffArtifact(Model):
    build_id: str
    iteration: int = 1
    base_commit: str  # commit of the target repository the patch applies to
    patch: str  # unified diff, git format (a/ b/ prefixes)
    sha256: str
    files_changed: list[str] = Field(default_factory=list)
    added_lines: int = 0
    removed_lines: int = 0
    head_commit: str | None = None  # the workspace commit after applying it


class TestOutcome(str, Enum):
    __test__ = False  # a domain enum, not a pytest test class
    passed = "passed"
    failed = "failed"
    error = "error"
    skipped = "skipped"


class TestCaseResult(Model):
    __test__ = False
    nodeid: str
    outcome: TestOutcome
    seconds: float = 0.0
    message: str = ""


class FailureClass(str, Enum):
    llm_transient = "llm_transient"
    llm_invalid_output = "llm_invalid_output"
    diff_apply = "diff_apply"
    safety_violation = "safety_violation"
    tests_failed = "tests_failed"
    requirement_unmet = "requirement_unmet"  # tests pass, but the spec asks for more than was built
    budget_exceeded = "budget_exceeded"
    sandbox_error = "sandbox_error"
    worker_lost = "worker_lost"
    awaiting_approval = "awaiting_approval"
    spec_refused = "spec_refused"


class SandboxCap(Model):
    """One limit a sandbox ran under, as really applied: what, how much, over what, by which means."""

    name: str  # memory, processes, disk, address_space, cpu, file_size, open_files
    limit: int
    unit: Literal["bytes", "count", "seconds"]
    scope: Literal["sandbox", "process", "uid"]  # the whole sandbox, each process, the sandbox's uid
    via: str  # cgroup v1, cgroup v2, tmpfs, prlimit


class SandboxInfo(Model):
    """What the generated tests were really allowed: the report never claims more than was applied."""

    isolation: Literal["bubblewrap", "rlimits"]
    uid: int
    network: bool = False  # True: the tests shared the host's network
    timeout_s: int
    exit_code: int | None = None
    timed_out: bool = False
    warning: str | None = None
    namespaces: list[str] = Field(default_factory=list)  # net, pid, ipc, uts, mount, cgroup
    hidden: list[str] = Field(default_factory=list)  # host folders the tests could not see
    writable: list[str] = Field(default_factory=list)  # the only places the tests could write
    caps: list[SandboxCap] = Field(default_factory=list)
    limits_hit: list[str] = Field(default_factory=list)  # caps the run ran into (memory, processes)


class CheckSeverity(str, Enum):
    error = "error"  # blocks the release
    warn = "warn"  # shown, never blocks


class QualityCheckResult(Model):
    """One quality gate over a build: its verdict, a one-line summary and the evidence behind it."""

    name: str  # stable id: tests_pass, no_secrets, write_scope, bandit_clean, ...
    passed: bool
    severity: CheckSeverity = CheckSeverity.error
    summary: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)


class ConfidenceLevel(str, Enum):
    high = "high"
    medium = "medium"
    low = "low"


class Confidence(Model):
    """How far a build's result can be trusted: a weighted score over named metrics (each 0-1)."""

    version: str = "v4"
    score: int = Field(ge=0, le=100)
    level: ConfidenceLevel
    metrics: dict[str, float] = Field(default_factory=dict)
    weights: dict[str, float] = Field(default_factory=dict)


class RiskFinding(Model):
    """Something the generated tree does that a person must see: a named flag, where, and why.

    `blocking` findings fail a quality gate (the build is refused); the others hold the build for
    a reviewer's approval whatever its risk score."""

    flag: RiskFlag
    path: str
    line: int | None = None
    evidence: str  # one line, never a secret's value
    blocking: bool = False

    @property
    def note(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{self.flag.value}: {where}: {self.evidence}"


class EvalReport(Model):
    build_id: str
    iteration: int = 1
    passed: bool
    tests: list[TestCaseResult] = Field(default_factory=list)
    tests_passed: int = 0
    tests_failed: int = 0
    tests_errored: int = 0
    tests_skipped: int = 0
    seconds: float = 0.0
    sandbox: SandboxInfo | None = None
    failure_class: FailureClass | None = None
    failure_summary: str = ""
    output_tail: str = ""  # the last lines of pytest's output, for the reader of a failure
    # Quality gates, the builder's own probe tests (run in the scratch copy only) and evaluation v4.
    checks: list[QualityCheckResult] = Field(default_factory=list)
    probes: list[TestCaseResult] = Field(default_factory=list)
    confidence: Confidence | None = None
    risk_signals: list[str] = Field(default_factory=list)
    # What the review of the generated tree found (harness tampering, CI files), and the risk
    # score the gate judged: the plan's score raised by those findings.
    risk_findings: list[RiskFinding] = Field(default_factory=list)
    risk_score: int | None = None
    requirements: list[RequirementTrace] = Field(default_factory=list)  # the traceability table


class ApprovalDecision(str, Enum):
    auto_approved = "auto_approved"
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class ApprovalGate(Model):
    build_id: str
    risk_score: int
    threshold: int
    decision: ApprovalDecision
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str = ""


class BuildArtifact(Model):
    build_id: str
    zip_path: str
    zip_sha256: str
    pr_body_path: str
    manifest_path: str
    manifest: dict[str, Any]
    approval: ApprovalGate
    released_at: datetime = Field(default_factory=utcnow)


class BuildStatus(str, Enum):
    submitted = "submitted"  # waiting for the sensor (or a CLI driver) to start it
    running = "running"
    awaiting_approval = "awaiting_approval"
    approved = "approved"  # cleared to release; whoever claims it (CLI or sensor) releases it
    releasing = "releasing"
    released = "released"
    rejected = "rejected"
    failed = "failed"
    cancelled = "cancelled"
    rolled_back = "rolled_back"


TERMINAL_STATUSES = frozenset(
    {BuildStatus.released, BuildStatus.rejected, BuildStatus.failed, BuildStatus.cancelled,
     BuildStatus.rolled_back}
)


class BuildRun(Model):
    id: str
    tenant: str = "default"
    spec_text: str
    mode: SpecMode = SpecMode.freeform
    status: BuildStatus = BuildStatus.submitted
    provider: str = "offline"
    base_build_id: str | None = None
    repo_path: str | None = None  # target repository given by the user, if any
    risk_score: int | None = None
    error: str | None = None
    attempt: int = 1  # raised by each retry of the healing ladder (and each rerun)
    failure_class: FailureClass | None = None  # why the last attempt failed
    sla: str = "normal"  # service tier (mb_core.scheduling): queue, priority, iterations, model
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class StepStatus(str, Enum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class BuildStep(Model):
    build_id: str
    name: str
    status: StepStatus
    started_at: datetime
    finished_at: datetime | None = None
    seconds: float | None = None
    detail: str = ""
    attempt: int = 1
    failure_class: FailureClass | None = None


# ---------------------------------------------------------------------------------------------
# Healing: repair attempts, circuit breakers, run budgets, chaos events
# ---------------------------------------------------------------------------------------------


class RepairPhase(str, Enum):
    """A rung of the ladder. `build` is a build's first attempt; the others answer a failure."""

    build = "build"
    retry = "retry"  # the same step again (a transient failure)
    patch = "patch"  # the Auto-Fixer's constrained patch, then diff + eval_report again
    replan = "replan"  # plan again with the failure as context, then everything after it
    rollback = "rollback"  # give up: the workspace goes back to its base


class AttemptOutcome(str, Enum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class RepairAttempt(Model):
    build_id: str
    attempt: int
    phase: RepairPhase
    outcome: AttemptOutcome = AttemptOutcome.running
    failure_class: FailureClass | None = None  # what this attempt failed with
    reason: str = ""  # why the ladder chose this phase
    started_at: datetime
    finished_at: datetime | None = None
    seconds: float | None = None  # running time of this attempt
    cost_usd: float = 0.0
    tokens: int = 0


class BreakerState(str, Enum):
    closed = "closed"
    open = "open"
    half_open = "half_open"


class BreakerRecord(Model):
    name: str  # one per failure class
    state: BreakerState = BreakerState.closed
    fail_counter: int = 0
    success_counter: int = 0
    opened_at: datetime | None = None
    updated_at: datetime | None = None


class RunBudget(Model):
    """A build's service-level budget and what it has used; the time counts running attempts only."""

    build_id: str
    max_attempts: int
    max_tokens: int | None = None
    max_seconds: float | None = None
    max_cost_usd: float | None = None
    running_seconds: float = 0.0
    attempts_used: int = 0


class ChaosEvent(Model):
    id: int | None = None
    build_id: str | None = None
    attempt: int = 1
    seam: str  # provider, codegen, sandbox, git_apply, store, worker
    fault: str  # http_429, http_500, timeout, malformed, semantic, crash, sigkill...
    seed: int
    created_at: datetime
    recovered: bool | None = None  # None while the build has not finished
    recovery: str = ""  # how: the phase that healed it, or why it did not
