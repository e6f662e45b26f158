"""The synchronous driver: what the CLI does when it runs a build itself, through Dagster, in process.

The same jobs the daemon's sensors launch, executed in this process against the same instance, so
every build the CLI runs shows in the Dagster UI with its lineage and metadata.
"""

from __future__ import annotations

from dataclasses import dataclass

from mb_core.errors import InvalidState, MBError
from mb_core.healing import record_build_failure
from mb_core.models import (
    ApprovalDecision,
    BuildArtifact,
    BuildRun,
    BuildStatus,
)
from mb_core.pipeline import BuildEnvironment


@dataclass
class DriverResult:
    build: BuildRun
    artifact: BuildArtifact | None
    run_ids: list[str]


def _defs():
    from mb_dagster.definitions import defs

    return defs


def _mb_error_names() -> frozenset[str]:
    seen, todo = set(), [MBError]
    while todo:
        cls = todo.pop()
        seen.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return frozenset(seen)



def _first_error(result) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            # The user-facing cause is the innermost MBError's one line (a ProviderError keeps
            # the network error it came from as its cause), else the innermost error.
            chain = [error]
            while chain[-1].cause is not None:
                chain.append(chain[-1].cause)
            names = _mb_error_names()
            ours = [e for e in chain if e.cls_name in names]
            error = ours[-1] if ours else chain[-1]
            return error.message.strip().splitlines()[-1] if error.message.strip() else "step failed"
    return "the run failed"


def _strip_exception_name(message: str) -> str:
    head, sep, rest = message.partition(": ")
    return rest if sep and head.replace(".", "").replace("_", "").isalnum() and " " not in head else message


def failed_blocking_checks(result) -> list[str]:
    """"name: description" of every blocking ERROR asset check that failed in the run."""
    from dagster import AssetCheckSeverity

    return [
        f"{ev.check_name} failed: {(ev.description or '').removeprefix(ev.check_name + ': ')}".rstrip(": ")
        for ev in result.get_asset_check_evaluations()
        if not ev.passed and ev.blocking and ev.severity == AssetCheckSeverity.ERROR
    ]


def execute_job(instance, job_name: str, build_id: str, tags: dict[str, str] | None = None):
    job = _defs().resolve_job_def(job_name)
    return job.execute_in_process(
        # The CLI prints its own one-line steps; Dagster's console log stays in the event log.
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        instance=instance,
        partition_key=build_id,
        raise_on_error=False,
        tags={"mb/build": build_id, **(tags or {})},
    )


def ensure_partition(instance, build_id: str) -> None:
    if not instance.has_dynamic_partition("builds", build_id):
        instance.add_dynamic_partitions("builds", [build_id])


def run_build(env: BuildEnvironment, instance, build_id: str,
              tags: dict[str, str] | None = None) -> DriverResult:
    """Build job, then the gate, then (when cleared) the release job."""
    ensure_partition(instance, build_id)
    result = execute_job(instance, "build_job", build_id, tags)
    run_ids = [result.run_id]
    blocked = failed_blocking_checks(result)
    if blocked:
        # A failed quality gate stops the release here too, whatever the gate decided before it.
        reason = f"quality gate {blocked[0]}" + (
            f" (and {len(blocked) - 1} more failed)" if len(blocked) > 1 else "")
        env.store.set_status(build_id, BuildStatus.failed, error=reason,
                             expected={BuildStatus.approved, BuildStatus.awaiting_approval})
        record_build_failure(env, build_id, reason)
        raise MBError(f"build {build_id} failed: {reason}")
    if not result.success:
        reason = _strip_exception_name(_first_error(result))
        record_build_failure(env, build_id, reason)
        build = env.store.get_build(build_id)
        raise MBError(f"build {build_id} failed: {build.error or reason}")
    artifact = None
    if env.store.set_status(build_id, BuildStatus.releasing, expected={BuildStatus.approved}):
        artifact, release_run = release(env, instance, build_id)
        run_ids.append(release_run)
    return DriverResult(build=env.store.get_build(build_id), artifact=artifact, run_ids=run_ids)


def release(env: BuildEnvironment, instance, build_id: str) -> tuple[BuildArtifact, str]:
    """Runs the release job for a build this driver has claimed (status releasing)."""
    result = execute_job(instance, "release_job", build_id)
    if not result.success:
        reason = _strip_exception_name(_first_error(result))
        record_build_failure(env, build_id, reason)
        raise MBError(f"release of build {build_id} failed: {reason}")
    artifact = env.assets.read("artifact", build_id, BuildArtifact)
    assert artifact is not None  # the release job just wrote it
    return artifact, result.run_id


def approve(env: BuildEnvironment, instance, build_id: str, by: str, reason: str,
            release_now: bool = True) -> tuple[BuildRun, BuildArtifact | None]:
    gate = env.store.decide(build_id, approve=True, by=by, reason=reason)
    if gate.decision != ApprovalDecision.approved:
        raise InvalidState(f"build {build_id} could not be approved ({gate.decision.value})")
    env.store.set_status(build_id, BuildStatus.approved, expected={BuildStatus.awaiting_approval})
    artifact = None
    if release_now and env.store.set_status(build_id, BuildStatus.releasing,
                                            expected={BuildStatus.approved}):
        artifact, _ = release(env, instance, build_id)
    return env.store.get_build(build_id), artifact


def reject(env: BuildEnvironment, build_id: str, by: str, reason: str) -> BuildRun:
    env.store.decide(build_id, approve=False, by=by, reason=reason)
    env.store.set_status(build_id, BuildStatus.rejected, error=f"rejected by {by}: {reason}".strip(),
                         expected={BuildStatus.awaiting_approval})
    return env.store.get_build(build_id)


def cancel(env: BuildEnvironment, build_id: str) -> BuildRun:
    """Cancel a build that has not finished; its workspace goes back to where it started."""
    from mb_core.healing import rollback_workspace
    from mb_core.models import TERMINAL_STATUSES

    build = env.store.get_build(build_id)
    if build.status in TERMINAL_STATUSES:
        raise InvalidState(f"build {build_id} is already {build.status.value}")
    active = set(BuildStatus) - set(TERMINAL_STATUSES)
    if not env.store.set_status(build_id, BuildStatus.cancelled, expected=active):
        raise InvalidState(f"build {build_id} finished while being cancelled")
    rollback_workspace(env.workspace_path(build_id))
    return env.store.get_build(build_id)
