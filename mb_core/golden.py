"""Golden tasks: specs with what their builds must show, and the comparison of a build with them.

One YAML file per task under golden_tasks/. A task either must build (with the entities,
endpoints, roles, features and test categories it names, within iteration and cost limits), must
be refused (with a reason matching a pattern), or must be contained (adversarial text that may
build, but whose payload never reaches the diff). Enormous specs are generated from a `repeat:` key
instead of being stored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from mb_core.errors import MBError
from mb_core.models import Model, RiskFlag
from mb_core.quality import CATEGORIES

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
ENDPOINT = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) /\S*$")
GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden_tasks"
REFUSAL_PREFIXES = ("spec refused", "diff rejected")
BUILT_STATUSES = frozenset({"released", "approved", "awaiting_approval", "releasing"})


def golden_dir(env: dict[str, str] | None = None) -> Path:
    """Where the tasks live: MB_GOLDEN_DIR, or golden_tasks/ next to the package."""
    import os

    raw = (os.environ if env is None else env).get("MB_GOLDEN_DIR")
    return Path(raw).expanduser().resolve() if raw else GOLDEN_DIR


class InvalidGoldenTask(MBError):
    """A golden task file cannot be read or breaks the task schema."""


class RepeatSpec(Model):
    """An enormous spec, made at load time: prefix + text * times + suffix."""

    text: str = Field(min_length=1)
    times: int = Field(ge=1, le=1_000_000)
    prefix: str = ""
    suffix: str = ""


class GoldenTask(Model):
    name: str
    domain: str
    description: str = ""
    spec: str | None = None
    repeat: RepeatSpec | None = None
    guided: bool = False
    expect: Literal["built", "refused", "contained"] = "built"
    reason: str | None = None  # regex the refusal's message must match (expect: refused)
    entities: list[str] = Field(default_factory=list)
    endpoints: list[str] = Field(default_factory=list)  # "GET /contacts"
    roles: list[str] = Field(default_factory=list)
    features: list[str] = Field(default_factory=list)  # "search" or "search:contact"
    tests: dict[str, int] = Field(default_factory=dict)  # category -> least number of tests
    risk_flags: list[RiskFlag] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)  # text that must never reach the diff
    max_iterations: int = Field(default=3, ge=1)
    max_cost_usd: float = Field(default=1.0, ge=0)
    min_confidence: int | None = Field(default=None, ge=0, le=100)
    # requirement keys (mb_core.requirements.trace.requirement_keys) the build must meet:
    # extracted, implemented and exercised by passing generated tests
    requirements: list[str] = Field(default_factory=list)
    # keys that must at least be extracted and traced (met, or listed as not met with the reason)
    requirements_traced: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("must be lowercase letters, digits, '_' or '-' (2-64 characters)")
        return value

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, value: list[str]) -> list[str]:
        for item in value:
            if not ENDPOINT.match(item):
                raise ValueError(f"{item!r} is not 'METHOD /path'")
        return value

    @field_validator("tests")
    @classmethod
    def _categories(cls, value: dict[str, int]) -> dict[str, int]:
        for category, least in value.items():
            if category not in CATEGORIES or category == "probe":
                raise ValueError(f"unknown test category {category!r} (use one of "
                                 f"{', '.join(c for c in CATEGORIES if c != 'probe')})")
            if least < 0:
                raise ValueError(f"{category}: the least number of tests cannot be negative")
        return value

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from None
        return value

    @model_validator(mode="after")
    def _shape(self) -> GoldenTask:
        if (self.spec is None) == (self.repeat is None):
            raise ValueError("give exactly one of spec or repeat")
        if self.spec is not None and not self.spec.strip():
            raise ValueError("spec is empty")
        if self.expect == "refused" and not self.reason:
            raise ValueError("a task expected to be refused needs a reason pattern")
        return self

    @property
    def text(self) -> str:
        if self.spec is not None:
            return self.spec
        r = self.repeat
        assert r is not None
        return r.prefix + r.text * r.times + r.suffix


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(task)"


def load_golden_task(path: Path) -> GoldenTask:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidGoldenTask(f"golden task {path.name}: cannot read it ({exc.strerror or exc})")
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidGoldenTask(f"golden task {path.name}: not valid YAML ({first})") from None
    if not isinstance(raw, dict):
        raise InvalidGoldenTask(f"golden task {path.name}: must be a mapping of fields")
    raw.setdefault("name", path.stem)
    try:
        return GoldenTask.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"].removeprefix("Value error, ")
        raise InvalidGoldenTask(
            f"golden task {path.name}: field {_field_path(error['loc'])}: {message}"
        ) from None


def load_golden_tasks(folder: Path, only: list[str] | None = None) -> list[GoldenTask]:
    """Every task in the folder, by name; `only` keeps the named ones (an unknown name is an error)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidGoldenTask(f"golden tasks folder {folder} does not exist")
    tasks: dict[str, GoldenTask] = {}
    for path in sorted(folder.glob("*.yaml")):
        task = load_golden_task(path)
        if task.name in tasks:
            raise InvalidGoldenTask(f"golden task {path.name}: field name: {task.name!r} is used twice")
        tasks[task.name] = task
    if only:
        unknown = [n for n in only if n not in tasks]
        if unknown:
            raise InvalidGoldenTask(f"no golden task named {', '.join(unknown)}")
        return [tasks[n] for n in only]
    return list(tasks.values())


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------


class GoldenObservation(Model):
    """What a golden build showed, gathered from its spec, plan, diff, eval report and the store."""

    build_id: str | None = None
    status: str  # a BuildStatus value, or "invalid" when the spec never became a build
    error: str = ""
    entities: list[str] = Field(default_factory=list)
    endpoints: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    features: list[str] = Field(default_factory=list)  # "kind:entity"
    risk_flags: list[str] = Field(default_factory=list)
    risk_score: int | None = None
    tests_passed: int = 0
    tests_failed: int = 0
    test_categories: dict[str, int] = Field(default_factory=dict)
    evaluation_passed: bool | None = None
    checks_failed: list[str] = Field(default_factory=list)  # failed ERROR quality gates
    requirements: dict[str, str] = Field(default_factory=dict)  # requirement key -> trace status
    iterations: int = 0
    cost_usd: float = 0.0
    confidence: int | None = None
    patch: str = Field(default="", exclude=True)


class GoldenResult(Model):
    task: str
    ok: bool
    outcome: str  # built | refused | failed
    mismatches: list[str] = Field(default_factory=list)
    observation: GoldenObservation


def _missing(expected: list[str], seen: list[str]) -> list[str]:
    have = set(seen)
    return [e for e in expected if e not in have]


def _missing_features(expected: list[str], seen: list[str]) -> list[str]:
    kinds = {s.split(":", 1)[0] for s in seen}
    return [e for e in expected if (e not in seen if ":" in e else e not in kinds)]


def outcome_of(obs: GoldenObservation) -> str:
    if obs.status in BUILT_STATUSES:
        return "built"
    # A refusal ends failed, or rolled back by the repair ladder (refusals are never retried).
    if obs.status == "invalid" or (obs.evaluation_passed is None and obs.status in ("failed", "rolled_back")
                                   and obs.error.lower().startswith(REFUSAL_PREFIXES)):
        return "refused"  # stopped on purpose before any evaluation: the spec or the diff was refused
    return "failed"  # a crash is not a refusal


def compare(task: GoldenTask, obs: GoldenObservation) -> GoldenResult:
    """Every way the build differs from the task's expectations; none means it matches."""
    outcome = outcome_of(obs)
    problems: list[str] = []
    leaked = [f for f in task.forbidden if f and f in obs.patch]
    problems += [f"forbidden text reached the diff: {f[:40]!r}" for f in leaked]

    if task.expect == "refused":
        if outcome != "refused":
            problems.append(f"expected a refusal matching /{task.reason}/, but the build {outcome}"
                            + (f" ({obs.error})" if obs.error and outcome == "failed" else ""))
        elif not re.search(task.reason or "", obs.error, re.IGNORECASE):
            problems.append(f"refused, but the reason {obs.error!r} does not match /{task.reason}/")
        return GoldenResult(task=task.name, ok=not problems, outcome=outcome, mismatches=problems,
                            observation=obs)

    if outcome == "refused" and task.expect == "contained":
        return GoldenResult(task=task.name, ok=not problems, outcome=outcome, mismatches=problems,
                            observation=obs)
    if outcome != "built":
        problems.append(f"expected a build, but it {outcome}: {obs.error or obs.status}")
    problems += [f"missing entity {e}" for e in _missing(task.entities, obs.entities)]
    problems += [f"missing endpoint {e}" for e in _missing(task.endpoints, obs.endpoints)]
    problems += [f"missing role {r}" for r in _missing(task.roles, obs.roles)]
    problems += [f"missing feature {f}" for f in _missing_features(task.features, obs.features)]
    problems += [f"missing risk flag {f.value}"
                 for f in task.risk_flags if f.value not in obs.risk_flags]
    for category, least in task.tests.items():
        have = obs.test_categories.get(category, 0)
        if have < least:
            problems.append(f"{category} tests: {have}, expected at least {least}")
    problems += [f"quality gate {name} failed" for name in obs.checks_failed]
    for key in task.requirements:
        status = obs.requirements.get(key)
        if status != "met":
            problems.append(f"requirement {key} not met ({status or 'not extracted'})")
    problems += [f"requirement {key} not extracted" for key in task.requirements_traced
                 if key not in obs.requirements]
    if obs.iterations > task.max_iterations:
        problems.append(f"{obs.iterations} iterations, more than {task.max_iterations}")
    if obs.cost_usd > task.max_cost_usd:
        problems.append(f"cost ${obs.cost_usd:.4f}, more than ${task.max_cost_usd:.4f}")
    if task.min_confidence is not None and (obs.confidence or 0) < task.min_confidence:
        problems.append(f"confidence {obs.confidence}, below {task.min_confidence}")
    return GoldenResult(task=task.name, ok=not problems, outcome=outcome, mismatches=problems,
                        observation=obs)


def observe_build(env, build_id: str) -> GoldenObservation:
    """Gathers a build's observation from the store and its asset files (`env`: BuildEnvironment)."""
    from mb_core.models import DiffArtifact, EvalReport, ScaffoldPlan, ScaffoldSpec
    from mb_core.quality import category_counts, failed_errors
    from mb_core.requirements.trace import CHECK_NAME, traced_keys

    build = env.store.get_build(build_id)
    spec = env.assets.read("spec", build_id, ScaffoldSpec)
    plan = env.assets.read("plan", build_id, ScaffoldPlan)
    diff = env.assets.read("diff", build_id, DiffArtifact)
    report = env.assets.read("eval_report", build_id, EvalReport)
    source = plan or spec
    cost = env.store.usage_totals(build_id)["total"]["cost_usd"]
    return GoldenObservation(
        build_id=build_id,
        status=build.status.value,
        error=build.error or "",
        entities=[e.name for e in source.entities] if source else [],
        endpoints=[f"{ep.method} {ep.path}" for ep in plan.endpoints] if plan else [],
        roles=[r.name for r in source.roles] if source else [],
        features=[f"{f.kind.value}:{f.entity}" for f in source.features] if source else [],
        risk_flags=[f.value for f in plan.risk_flags] if plan else [],
        risk_score=plan.risk_score if plan else None,
        tests_passed=report.tests_passed if report else 0,
        tests_failed=(report.tests_failed + report.tests_errored) if report else 0,
        test_categories={c: row["total"] for c, row in category_counts(report.tests).items()}
        if report else {},
        evaluation_passed=report.passed if report else None,
        # unmet requirements are judged by the task's own requirement lists, not as a gate
        checks_failed=[c.name for c in failed_errors(report.checks) if c.name != CHECK_NAME]
        if report else [],
        requirements=traced_keys(plan, report.requirements) if report else {},
        iterations=report.iteration if report else 0,
        cost_usd=float(cost or 0.0),
        confidence=report.confidence.score if report and report.confidence else None,
        patch=diff.patch if diff else "",
    )
