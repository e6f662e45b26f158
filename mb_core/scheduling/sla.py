"""The SLA monitor: how long a build took to its first artifact and to its release, against its
tier's targets. Pure over the build's recorded steps; the release asset shows the result as
metadata and /metrics counts the violations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from mb_core.scheduling.tiers import policy_for

FIRST_ARTIFACT_STEP = "diff"  # the first thing a build hands over: generated code, applied
RELEASE_STEP = "artifact"


class SlaViolation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measure: str  # time_to_first_artifact, time_to_release
    target_s: float
    actual_s: float | None  # None: not reached yet, and already past the target

    @property
    def text(self) -> str:
        took = "not reached" if self.actual_s is None else f"{self.actual_s:.1f} s"
        return f"{self.measure}: {took}, target {self.target_s:g} s"


class SlaReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str
    time_to_first_artifact_s: float | None
    time_to_release_s: float | None
    violations: list[SlaViolation]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _first_success(steps: Iterable, name: str) -> datetime | None:
    done = [_utc(s.finished_at) for s in steps
            if s.name == name and getattr(s.status, "value", s.status) == "succeeded" and s.finished_at]
    return min(done) if done else None


def sla_report(tier: str | None, submitted_at: datetime, steps: Iterable, now: datetime) -> SlaReport:
    """Both measures from the build's steps (BuildStep records), each judged against the tier: a
    measure not reached yet is a violation once its target has passed."""
    policy = policy_for(tier)
    steps = list(steps)
    start = _utc(submitted_at)
    now = _utc(now)
    report: dict[str, float | None] = {}
    violations: list[SlaViolation] = []
    for measure, step, target in (("time_to_first_artifact", FIRST_ARTIFACT_STEP, policy.first_artifact_s),
                                  ("time_to_release", RELEASE_STEP, policy.release_s)):
        reached = _first_success(steps, step)
        actual = None if reached is None else round(max(0.0, (reached - start).total_seconds()), 3)
        report[measure] = actual
        late = (actual > target) if actual is not None else ((now - start).total_seconds() > target)
        if late:
            violations.append(SlaViolation(measure=measure, target_s=target, actual_s=actual))
    return SlaReport(tier=policy.tier.value, time_to_first_artifact_s=report["time_to_first_artifact"],
                     time_to_release_s=report["time_to_release"], violations=violations)
