"""What each model was seen to do, read from the store's recorded exchanges and build outcomes:
the `observed` input of `choose_model`. The only module of the package that does I/O."""

from __future__ import annotations

from sqlalchemy import distinct, func, select

from mb_core.models import BuildStatus
from mb_core.scheduling.model_choice import ModelStats
from mb_core.store.tables import builds, exchanges

FINISHED = (BuildStatus.released, BuildStatus.rejected, BuildStatus.failed, BuildStatus.rolled_back)


def observed_models(store, provider: str | None = None) -> dict[str, ModelStats]:
    """Per model: calls and mean latency of its exchanges, and how many builds that called it
    finished and were released (cancelled builds say nothing about the model)."""
    calls = select(exchanges.c.model, func.count().label("calls"),
                   func.avg(exchanges.c.latency_s).label("latency")).group_by(exchanges.c.model)
    outcome = (
        select(exchanges.c.model, builds.c.status, func.count(distinct(builds.c.id)).label("n"))
        .join(builds, builds.c.id == exchanges.c.build_id)
        .where(builds.c.status.in_([s.value for s in FINISHED]))
        .group_by(exchanges.c.model, builds.c.status)
    )
    if provider is not None:
        calls = calls.where(exchanges.c.provider == provider)
        outcome = outcome.where(exchanges.c.provider == provider)
    with store.engine.connect() as conn:
        seen = {row.model: ModelStats(model=row.model, calls=int(row.calls),
                                      mean_latency_s=None if row.latency is None else float(row.latency))
                for row in conn.execute(calls)}
        for row in conn.execute(outcome):
            stats = seen.setdefault(row.model, ModelStats(model=row.model))
            stats.builds_finished += int(row.n)
            if row.status == BuildStatus.released.value:
                stats.builds_released += int(row.n)
    return seen
