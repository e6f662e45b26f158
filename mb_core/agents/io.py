"""Input and output models of the agent roles that have no domain model of their own."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mb_core.models import (
    EvalReport,
    FailureClass,
    GeneratedFile,
    Model,
    ScaffoldPlan,
    ScaffoldSpec,
    SpecMode,
)


class ArchitectInput(Model):
    text: str
    mode: SpecMode = SpecMode.freeform
    base_spec: ScaffoldSpec | None = None  # incremental build: the spec being extended


class DesignerInput(Model):
    spec: ScaffoldSpec
    base_plan: ScaffoldPlan | None = None


class SecurityInput(Model):
    plan: ScaffoldPlan


class CodegenInput(Model):
    plan: ScaffoldPlan


class DevopsInput(Model):
    plan: ScaffoldPlan


class QAInput(Model):
    report: EvalReport


class QAVerdict(Model):
    passed: bool
    failure_class: FailureClass | None = None
    summary: str = ""
    failing_tests: list[str] = Field(default_factory=list)


class FixInput(Model):
    plan: ScaffoldPlan
    report: EvalReport
    files: list[GeneratedFile] = Field(default_factory=list)  # current content of implicated files


class DiffStats(Model):
    files_changed: list[str]
    added_lines: int
    removed_lines: int
    sha256: str
    # HTTP operations the diff's application code declares (route decorators), counted from the
    # patch: what the service really serves, which the plan's endpoint list undercounts.
    operations: int | None = None


class ReviewInput(Model):
    plan: ScaffoldPlan
    diff: DiffStats
    report: EvalReport
    approval_threshold: int


class ReviewOutput(Model):
    title: str
    pr_body: str  # markdown
    risks: list[str] = Field(default_factory=list)
    recommendation: Literal["approve", "request_changes"] = "approve"
