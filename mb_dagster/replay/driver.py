"""Replays past builds in this process through `replay_job` and tells whether each one drifted.

The original diff is read before the run (the run overwrites the asset file with the replayed
value); drift is a different sha256 of the new diff. The gate, the status and the artifact of the
build are not touched: `replay_job` carries the `mb/replay` tag, which the build assets honour.
"""

from __future__ import annotations

from dataclasses import dataclass

from mb_core.errors import InvalidState
from mb_core.models import DiffArtifact
from mb_core.pipeline import BuildEnvironment
from mb_dagster.driver import ensure_partition, execute_job
from mb_dagster.healing.judge import failed_blocking_checks, first_error, strip_exception_name


@dataclass
class ReplayOutcome:
    build_id: str
    original_sha256: str
    replayed_sha256: str | None = None
    run_id: str | None = None
    error: str | None = None  # why the replay could not finish (a missing exchange...)

    @property
    def drift(self) -> bool:
        return self.replayed_sha256 is not None and self.replayed_sha256 != self.original_sha256

    @property
    def ok(self) -> bool:
        return self.error is None and not self.drift


def replay_build(env: BuildEnvironment, instance, build_id: str) -> ReplayOutcome:
    env.store.get_build(build_id)  # UnknownBuild first
    original = env.assets.read("diff", build_id, DiffArtifact)
    if original is None:
        raise InvalidState(f"build {build_id} has no diff to compare a replay with; "
                           "only a build that got as far as its diff can be replayed")
    if not env.store.list_exchanges(build_id):
        raise InvalidState(f"build {build_id} has no recorded exchanges to replay")
    ensure_partition(instance, build_id)
    result = execute_job(instance, "replay_job", build_id)
    outcome = ReplayOutcome(build_id=build_id, original_sha256=original.sha256, run_id=result.run_id)
    blocked = failed_blocking_checks(result.all_events)
    if not result.success:
        outcome.error = (f"quality gate {blocked[0]}" if blocked
                         else strip_exception_name(first_error(result.all_events)))
        # A replay that stopped at eval_report still re-made the diff: report its drift too.
    replayed = env.assets.read("diff", build_id, DiffArtifact)
    if replayed is not None:
        outcome.replayed_sha256 = replayed.sha256
    return outcome
