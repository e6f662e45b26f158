"""Decisions about runs the API takes beyond the gate: promotion, and what a run's timeline shows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from mb_core.models import BuildRun, BuildStatus


def promotion_refusal(build: BuildRun) -> str | None:
    """Why this run cannot be promoted to its spec's current release, or None when it can: only a
    released run has an artifact to promote."""
    if build.status is BuildStatus.released:
        return None
    return f"run {build.id} is {build.status.value}; only a released run can be promoted"


class TimelineEvent(BaseModel):
    at: datetime
    kind: str  # submitted | step | gate | audit | repair
    name: str
    status: str
    detail: str = ""


def ordered_timeline(events: list[TimelineEvent]) -> list[TimelineEvent]:
    """Oldest first; events of the same instant keep the order they were gathered in."""
    return sorted(events, key=lambda event: event.at)
