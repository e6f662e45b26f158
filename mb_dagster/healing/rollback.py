"""The rollback job: the last rung, as a run the sensors request. It closes the failed attempt,
stops the build's runs a lost worker left behind, puts the workspace back at its base, and ends
the build rolled back with its reason (or failed, when no rung applies). Each write is a
compare-and-set: run twice, it changes nothing the second time."""

# No `from __future__ import annotations`: Dagster reads the op's annotations as types.

from dagster import Config, OpExecutionContext, in_process_executor, job, op

from mb_core.healing import remove_release_scratch, restore_workspace
from mb_core.lifecycle import ACTIVE, BuildEvent
from mb_core.models import BuildStatus, FailureClass
from mb_core.store.workers import give_back_lease
from mb_dagster.resources import MetaBuilderResource


class RollbackConfig(Config):
    build_id: str
    attempt: int
    reason: str
    failure_class: str = ""  # empty: the failure has no class (the build fails as it is)
    end: str = "rolled_back"  # or "failed"
    # False: only end the build (failed), the workspace left as it is; what the healing sensor
    # asks for once rollback runs kept failing, so a build never stays in flight for want of one.
    restore: bool = True


def close_drive(env, build_id: str) -> None:
    """What every driver does where its drive of a build ends (the CLI's run_build and release, the
    end of a daemon run, the rollback job): its injected faults say whether it recovered, and a
    finished build writes its canary sample, one per build (a later drive that moves it on, say
    approved -> released, replaces it). A build still running gets neither."""
    from mb_core.canary.recording import record_sample
    from mb_core.chaos import resolve_events

    resolve_events(env.store, build_id)  # each fault by its own attempt: recovered, and how
    record_sample(env.store, build_id)


def roll_back(env, instance, config: RollbackConfig, run_id: str | None = None) -> bool:
    """Returns whether this call ended the build."""
    from mb_dagster.healing.attempts import cancel_orphaned_runs, settle_failed_attempt

    store = env.store
    build = store.get_build(config.build_id)
    if build.attempt != config.attempt or build.status not in ACTIVE | {BuildStatus.failed}:
        return False  # the build moved on (another driver ended it, or a later attempt runs)
    failure = FailureClass(config.failure_class) if config.failure_class else None
    settle_failed_attempt(env, build.id, build.attempt, failure)
    if instance is not None:
        cancel_orphaned_runs(instance, build.id, run_id or "")
    if config.restore:
        try:
            restore_workspace(env.workspace_path(build.id))
            remove_release_scratch(env.artifact_dir(build.id), build.id)
        except Exception as exc:
            # Not rolled back, but not left in flight either: failed, with both reasons. The run
            # still fails, so the UI shows the workspace needs a look.
            store.transition(build.id, BuildEvent.fail, failure_class=failure, expected=ACTIVE,
                             error=f"{config.reason}; the rollback could not restore the workspace "
                                   f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]})"[:2000])
            give_back_lease(store, build.id)
            close_drive(env, build.id)
            raise
    if config.end == "failed":
        moved = store.transition(build.id, BuildEvent.fail, error=config.reason, failure_class=failure,
                                 expected=ACTIVE)
    else:
        moved = store.transition(build.id, BuildEvent.roll_back, error=config.reason,
                                 failure_class=failure, expected=ACTIVE | {BuildStatus.failed})
    give_back_lease(store, build.id)
    close_drive(env, build.id)
    return moved


@op(description="Close the failed attempt, restore the workspace, end the build rolled back.")
def roll_back_build(context: OpExecutionContext, config: RollbackConfig, mb: MetaBuilderResource) -> bool:
    moved = roll_back(mb.environment(), context.instance, config, context.run_id)
    context.log.info(f"build {config.build_id}: {'rolled back' if moved else 'already moved on'}")
    return moved


# In process, like every job: a Celery run worker's pool process is daemonic and may not start the
# multiprocess executor's step processes (every rollback failed there).
@job(executor_def=in_process_executor,
     description="The ladder's last rung: a build's workspace back at its base, the build ended.")
def rollback_job():
    roll_back_build()
