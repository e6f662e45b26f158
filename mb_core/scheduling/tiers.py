"""SLA tiers and the queues runs wait in: what a tier asks of the scheduler.

A build's tier (fast, normal, thorough) picks the Dagster run queue (the `mb/queue` tag, limited per
queue by the instance's tag concurrency limits), the run priority (`dagster/priority`), how many
attempts the repair ladder may make, and its time targets. One table, pure functions.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

QUEUE_TAG = "mb/queue"
PRIORITY_TAG = "dagster/priority"
SLA_TAG = "mb/sla"


class SlaTier(StrEnum):
    fast = "fast"
    normal = "normal"
    thorough = "thorough"


class Queue(StrEnum):
    """The run queues; dagster.postgres.yaml gives each its own concurrency limit."""

    cpu = "cpu"  # offline builds: rules, codegen and the sandboxed tests, bound by the cores
    io = "io"  # releases: zips, manifests and files, bound by the disk
    llm = "llm"  # builds whose agents call an LLM provider, bound by the provider's rate
    high = "high"  # fast-tier builds: a few slots kept free of the backlog
    low = "low"  # thorough-tier builds: background work that yields to the rest


class TierPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: SlaTier
    priority: int  # dagster/priority: higher runs first within the coordinator's queue
    max_iterations: int = Field(ge=1)  # attempts the repair ladder may make
    first_artifact_s: float = Field(gt=0)  # target: submission -> the first diff applied
    release_s: float = Field(gt=0)  # target: submission -> released (or waiting at the gate)
    prefer: str  # what the model choice optimises first: latency, cost or success


TIER_POLICIES: dict[SlaTier, TierPolicy] = {
    SlaTier.fast: TierPolicy(tier=SlaTier.fast, priority=10, max_iterations=2,
                             first_artifact_s=60, release_s=180, prefer="latency"),
    SlaTier.normal: TierPolicy(tier=SlaTier.normal, priority=0, max_iterations=4,
                               first_artifact_s=300, release_s=900, prefer="cost"),
    SlaTier.thorough: TierPolicy(tier=SlaTier.thorough, priority=-10, max_iterations=6,
                                 first_artifact_s=1800, release_s=3600, prefer="success"),
}

RELEASE_JOBS = frozenset({"release_job"})


def tier_of(value: str | SlaTier | None) -> SlaTier:
    """The tier a build asked for; a build recorded before tiers existed is normal."""
    if value is None or value == "":
        return SlaTier.normal
    try:
        return SlaTier(value)
    except ValueError:
        from mb_core.errors import InvalidSettings

        raise InvalidSettings(
            f"unknown SLA tier {value!r} (one of: {', '.join(t.value for t in SlaTier)})") from None


def policy_for(tier: str | SlaTier | None) -> TierPolicy:
    return TIER_POLICIES[tier_of(tier)]


def queue_for(tier: str | SlaTier | None, provider: str, job: str = "build_job") -> Queue:
    """The queue of one run: the tier first (fast jumps the backlog, thorough yields), then what the
    run spends its time on (a release writes files; an LLM build waits on its provider)."""
    tier = tier_of(tier)
    if tier == SlaTier.fast:
        return Queue.high
    if tier == SlaTier.thorough:
        return Queue.low
    if job in RELEASE_JOBS:
        return Queue.io
    return Queue.cpu if provider in ("offline", "replay") else Queue.llm


def run_tags(tier: str | SlaTier | None, provider: str, job: str = "build_job") -> dict[str, str]:
    """The scheduling tags of one run request: queue, priority and tier."""
    policy = policy_for(tier)
    return {QUEUE_TAG: queue_for(policy.tier, provider, job).value,
            PRIORITY_TAG: str(policy.priority), SLA_TAG: policy.tier.value}


def run_tags_for(build, job: str = "build_job") -> dict[str, str]:
    """`run_tags` of a BuildRun: what every sensor and driver adds to the runs it requests."""
    return run_tags(getattr(build, "sla", None), build.provider, job)
