"""The ladder's decision as a run request: the next attempt of the same partition, or a rollback.

Pure reads of the store and the ladder (mb_core.ladder.next_phase): the same decision the CLI's
driver takes in process. The run keys name the build and the attempt, so a tick repeated before
the run starts asks for nothing new, and a later failure of the same build gets a new key.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import RunConfig, RunRequest

from mb_core.breakers import BREAKER_NAMES, breaker_state
from mb_core.canary.variants import Variant, rung_limits
from mb_core.healing import current_drive, rungs_used, with_pending_attempt
from mb_core.ladder import Decision, LadderInput, RungLimits, next_phase
from mb_core.models import AttemptOutcome, BuildRun, FailureClass, RepairPhase
from mb_core.slo import budget_left, run_budget_from_env
from mb_dagster.build.metadata import run_tags as build_tags
from mb_dagster.healing.attempts import (
    AFTER_TAG,
    ATTEMPT_TAG,
    BUILD_TAG,
    DRIVER_TAG,
    HEALING_TAG,
    ITERATION_TAG,
    PHASE_TAG,
    REASON_TAG,
    SENSOR_DRIVER,
    lost_at,
)
from mb_dagster.healing.rollback import RollbackConfig

PHASE_JOBS = {RepairPhase.build: "build_job", RepairPhase.retry: "build_job",
              RepairPhase.patch: "repair_job", RepairPhase.replan: "replan_job"}


def first_run_request(build: BuildRun) -> RunRequest:
    """The first attempt of a submitted build (the run claims it)."""
    return RunRequest(
        job_name="build_job", partition_key=build.id, run_key=f"build:{build.id}:{build.attempt}",
        tags={BUILD_TAG: build.id, "mb/provider": build.provider, "mb/tenant": build.tenant,
              DRIVER_TAG: SENSOR_DRIVER, PHASE_TAG: RepairPhase.build.value, ITERATION_TAG: "1",
              ATTEMPT_TAG: str(build.attempt), HEALING_TAG: "1", **build_tags(build)})


# How often a release run that never claimed its build (it failed to launch or to start, and the
# build is still approved) is asked for again before the build is left for a person.
MAX_RELEASE_LAUNCHES = 3


def release_relaunch(unclaimed_ends: int) -> int | None:
    """Which launch of the release run to ask for, given how many release runs of the build's
    attempt ended without claiming it; None once they are spent."""
    return unclaimed_ends if unclaimed_ends < MAX_RELEASE_LAUNCHES else None


def release_run_request(build: BuildRun, launch: int = 0) -> RunRequest:
    # launch 0 keeps the plain key, so a tick repeated before the run starts asks for nothing new
    suffix = f":r{launch}" if launch else ""
    return RunRequest(job_name="release_job", partition_key=build.id,
                      run_key=f"release:{build.id}:{build.attempt}{suffix}",
                      tags={BUILD_TAG: build.id, "mb/tenant": build.tenant, DRIVER_TAG: SENSOR_DRIVER,
                            ATTEMPT_TAG: str(build.attempt), **build_tags(build, "release_job")})


def variant_limits(store, build_id: str) -> RungLimits:
    """What the ladder may do for the build's canary variant, as the CLI driver allows it (a build
    without a variant gets the whole ladder)."""
    from mb_core.store.canary import CanaryStore

    assignment = CanaryStore(store).variant_of(build_id)
    return RungLimits() if assignment is None else rung_limits(Variant(assignment.variant))


def decide(env, build: BuildRun, failure: FailureClass, reason: str, *,
           exhausted: RepairPhase | None = None, limits: RungLimits | None = None,
           now: datetime | None = None) -> Decision:
    """The ladder's next rung for the build's failed current attempt (nothing written)."""
    store = env.store
    limits = limits or variant_limits(store, build.id)
    attempts = store.list_attempts(build.id)
    budget = store.get_budget(build.id) or run_budget_from_env(build.id)
    open_ = [a for a in attempts if a.attempt == build.attempt and a.outcome is AttemptOutcome.running]
    # A lost attempt counts up to its worker's last sign of life, as settling it will charge it.
    lost = lost_at(env, build.id, open_[0]) if failure is FailureClass.worker_lost and open_ else None
    budget = with_pending_attempt(budget, attempts, now or datetime.now(UTC), lost_at=lost)
    total = store.usage_totals(build.id)["total"]
    breaker, reopens = ((breaker_state(store, failure)) if failure.value in BREAKER_NAMES
                        else (None, None))
    state = LadderInput(failure=failure, reason=reason, attempts=rungs_used(attempts, limits, exhausted, failure),
                        limits=limits, budget=budget_left(budget, total["total_tokens"], total["cost_usd"]),
                        **({"breaker": breaker, "breaker_reopens_at": reopens} if breaker else {}))
    return next_phase(state)


def ladder_request(env, build: BuildRun, failure: FailureClass | None, reason: str, *,
                   exhausted: RepairPhase | None = None, limits: RungLimits | None = None,
                   now: datetime | None = None) -> tuple[RunRequest | None, str]:
    """The run that follows the build's failed attempt, and the ladder's reason. No class (a
    refused key, a bug): the build just fails, in a run that also restores its workspace."""
    if failure is None:
        return rollback_request(build, None, reason, end="failed"), f"{reason}: no rung helps; failed"
    decision = decide(env, build, failure, reason, exhausted=exhausted, limits=limits, now=now)
    if decision.phase == "wait":
        return None, decision.reason
    if decision.phase == RepairPhase.rollback:
        return rollback_request(build, failure, f"{reason}; {decision.reason}"), decision.reason
    iteration = 1 + len(current_drive(env.store.list_attempts(build.id)))
    nxt = build.attempt + 1
    return RunRequest(
        job_name=PHASE_JOBS[decision.phase], partition_key=build.id, run_key=f"heal:{build.id}:{nxt}",
        tags={BUILD_TAG: build.id, "mb/provider": build.provider, "mb/tenant": build.tenant,
              DRIVER_TAG: SENSOR_DRIVER, PHASE_TAG: decision.phase.value, ITERATION_TAG: str(iteration),
              ATTEMPT_TAG: str(nxt), AFTER_TAG: failure.value, REASON_TAG: decision.reason[:200],
              HEALING_TAG: "1", **build_tags(build, PHASE_JOBS[decision.phase])},
    ), decision.reason


def rollback_request(build: BuildRun, failure: FailureClass | None, reason: str,
                     end: str = "rolled_back", *, restore: bool = True, key_suffix: str = "") -> RunRequest:
    config = RollbackConfig(build_id=build.id, attempt=build.attempt, reason=reason[:2000],
                            failure_class=failure.value if failure else "", end=end, restore=restore)
    return RunRequest(job_name="rollback_job", run_key=f"rollback:{build.id}:{build.attempt}{key_suffix}",
                      run_config=RunConfig(ops={"roll_back_build": config}),
                      tags={BUILD_TAG: build.id, "mb/tenant": build.tenant, DRIVER_TAG: SENSOR_DRIVER,
                            ATTEMPT_TAG: str(build.attempt), **build_tags(build, "rollback_job")})


# Rollback runs of one attempt that may fail for good (their worker died, their launch failed)
# before the healing sensor stops asking for the whole rollback and only ends the build.
ROLLBACK_LAUNCHES = 2


def rollback_relaunch(build: BuildRun, failed_config: dict, failed_runs: int, error: str) -> tuple[RunRequest, str]:
    """What follows a rollback run of the build's attempt that failed for good, the
    `failed_runs`-th: the rollback again, or, once ROLLBACK_LAUNCHES have failed, a run that only
    ends the build failed with the reason (the workspace left as it is), so no build stays in flight."""
    failure = FailureClass(failed_config["failure_class"]) if failed_config.get("failure_class") else None
    reason = failed_config.get("reason") or "rolled back"
    if failed_runs < ROLLBACK_LAUNCHES:
        why = f"the rollback run failed ({error}): asked again"
        return rollback_request(build, failure, reason, end=failed_config.get("end", "rolled_back"),
                                key_suffix=f":r{failed_runs}"), why
    why = (f"the rollback failed {failed_runs} times (last: {error}): ended failed, the workspace "
           "may not be at its base")
    return rollback_request(build, failure, f"{reason}; {why}", end="failed", restore=False,
                            key_suffix=":end"), why
