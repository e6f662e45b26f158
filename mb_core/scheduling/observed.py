"""What each model was seen to do, read from the store's recorded exchanges and build outcomes:
the `observed` input of `choose_model`; and `model_for_attempt`, which applies the choice to a
build's attempt and keeps it. The only module of the package that does I/O."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from mb_core.models import BuildStatus
from mb_core.scheduling.model_choice import ModelStats
from mb_core.store.tables import builds, exchanges

FINISHED = (BuildStatus.released, BuildStatus.rejected, BuildStatus.failed, BuildStatus.rolled_back)


def observed_models(store, provider: str | None = None,
                    candidates: list[str] | None = None) -> dict[str, ModelStats]:
    """Per model: calls and mean latency of its exchanges, and how many builds that called it
    finished and were released (cancelled builds say nothing about the model). Given candidates,
    the served names (dated snapshots, provider prefixes) are counted under the candidate they
    stand for, a build once per candidate, and names that stand for none are left out."""
    from mb_core.metering import listed_model

    calls = select(exchanges.c.model, func.count().label("calls"),
                   func.sum(exchanges.c.latency_s).label("latency")).group_by(exchanges.c.model)
    outcome = (
        select(exchanges.c.model, builds.c.id, builds.c.status).distinct()
        .join(builds, builds.c.id == exchanges.c.build_id)
        .where(builds.c.status.in_([s.value for s in FINISHED]))
    )
    if provider is not None:
        calls = calls.where(exchanges.c.provider == provider)
        outcome = outcome.where(exchanges.c.provider == provider)

    def key(served: str) -> str | None:
        return served if candidates is None else listed_model(served, candidates)

    totals: dict[str, list[float]] = {}  # model -> [calls, summed latency]
    finished: dict[str, dict[str, str]] = {}  # model -> build id -> status
    with store.engine.connect() as conn:
        for row in conn.execute(calls):
            if (model := key(row.model)) is not None:
                total = totals.setdefault(model, [0, 0.0])
                total[0] += int(row.calls)
                total[1] += float(row.latency or 0.0)
        for row in conn.execute(outcome):
            if (model := key(row.model)) is not None:
                finished.setdefault(model, {})[row.id] = row.status
    seen = {model: ModelStats(model=model, calls=int(n), mean_latency_s=(latency / n) if n else None)
            for model, (n, latency) in totals.items()}
    for model, statuses in finished.items():
        stats = seen.setdefault(model, ModelStats(model=model))
        stats.builds_finished = len(statuses)
        stats.builds_released = sum(s == BuildStatus.released.value for s in statuses.values())
    return seen


def model_for_attempt(store, build, provider: str, candidates: list[str], prices,
                      budget_left_usd: Callable[[], float | None]):
    """The model of the build's current attempt: the one kept for it, or `choose_model` over what
    the store saw of each candidate (calls of this provider, all builds), then kept, so every step
    of the attempt calls the same model. A later attempt chooses again, with the budget then left."""
    from mb_core.scheduling.model_choice import choose_model
    from mb_core.store.model_choices import get_model_choice, keep_model_choice

    kept = get_model_choice(store, build.id, build.attempt)
    if kept is not None:
        return kept
    if len(set(candidates)) == 1:
        # One model to give (the offline provider, MB_MODELS unset): nothing to read for it.
        left, observed = None, {}
    else:
        left, observed = budget_left_usd(), observed_models(store, provider, candidates)
    choice = choose_model(build.sla, candidates, prices, observed, budget_left_usd=left)
    return keep_model_choice(store, build.id, build.attempt, provider, choice, left)


def sla_violation_counts(store, now) -> dict[tuple[str, str], int]:
    """(tier, measure) -> builds that missed that target: every build judged by `sla_report` from
    its first successful diff and artifact steps (one grouped query, not one per build)."""
    from types import SimpleNamespace

    from mb_core.models import StepStatus
    from mb_core.scheduling.sla import FIRST_ARTIFACT_STEP, RELEASE_STEP, sla_report
    from mb_core.store.tables import build_steps

    firsts = (
        select(build_steps.c.build_id, build_steps.c.name,
               func.min(build_steps.c.finished_at).label("finished_at"))
        .where(build_steps.c.status == StepStatus.succeeded.value,
               build_steps.c.name.in_([FIRST_ARTIFACT_STEP, RELEASE_STEP]))
        .group_by(build_steps.c.build_id, build_steps.c.name)
        .subquery()
    )
    query = (select(builds.c.id, builds.c.sla, builds.c.created_at, firsts.c.name, firsts.c.finished_at)
             .outerjoin(firsts, firsts.c.build_id == builds.c.id)
             .where(builds.c.status != BuildStatus.cancelled.value))
    per_build: dict[str, tuple[str, object, list]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            entry = per_build.setdefault(row.id, (row.sla, row.created_at, []))
            if row.name is not None:
                entry[2].append(SimpleNamespace(name=row.name, status="succeeded",
                                                finished_at=row.finished_at))
    counts: dict[tuple[str, str], int] = {}
    for sla, created_at, steps in per_build.values():
        for violation in sla_report(sla, created_at, steps, now).violations:
            key = (sla, violation.measure)
            counts[key] = counts.get(key, 0) + 1
    return counts
