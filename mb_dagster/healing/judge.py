"""What a run of an attempt came to, in the ladder's terms, read from its Dagster events.

The CLI driver hands in the events of the run it just executed; the healing sensor reads the same
events from the instance's event log. Either way the judgement is the same function.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mb_core.errors import MBError
from mb_core.failures import database_lost, gate_failure, strip_exception_name
from mb_core.models import BuildStatus, FailureClass, StepStatus


@dataclass
class AttemptResult:
    failure: FailureClass | None  # None with no reason: the attempt succeeded
    reason: str | None
    rung_exhausted: bool = False  # the rung found nothing to change (NothingToRepair)


def _mb_error_names() -> frozenset[str]:
    seen, todo = set(), [MBError]
    while todo:
        cls = todo.pop()
        seen.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return frozenset(seen)


def _step_errors(events: Iterable) -> list:
    return [event.step_failure_data.error for event in events
            if event.is_step_failure and event.step_failure_data and event.step_failure_data.error]


def first_error(events: Iterable) -> str:
    for error in _step_errors(events):
        # The user-facing cause is the innermost MBError's one line (a ProviderError keeps the
        # network error it came from as its cause), else the innermost error.
        chain = [error]
        while chain[-1].cause is not None:
            chain.append(chain[-1].cause)
        names = _mb_error_names()
        ours = [e for e in chain if e.cls_name in names]
        error = ours[-1] if ours else chain[-1]
        return error.message.strip().splitlines()[-1] if error.message.strip() else "step failed"
    return "the run failed"




def error_chains(events: Iterable) -> list[list[tuple[str, str]]]:
    """Per failed step: (class name, message) of its error and each cause, outermost first."""
    chains = []
    for error in _step_errors(events):
        chain = []
        while error is not None:
            chain.append((error.cls_name, error.message or ""))
            error = error.cause
        chains.append(chain)
    return chains


def error_names(events: Iterable) -> set[str]:
    return {name for chain in error_chains(events) for name, _ in chain}


def check_evaluations(events: Iterable) -> list:
    from dagster import DagsterEventType

    return [event.event_specific_data for event in events
            if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION]


def failed_blocking_checks(events: Iterable) -> list[str]:
    """"name failed: description" of every blocking ERROR asset check that failed in the run."""
    from dagster import AssetCheckSeverity

    return [
        f"{ev.check_name} failed: {(ev.description or '').removeprefix(ev.check_name + ': ')}".rstrip(": ")
        for ev in check_evaluations(events)
        if not ev.passed and ev.blocking and ev.severity == AssetCheckSeverity.ERROR
    ]


def judge_events(env, build_id: str, attempt: int, events: list, success: bool) -> AttemptResult:
    """The outcome of one run of the build's `attempt`, from the run's events and the store."""
    blocked = failed_blocking_checks(events)
    if blocked:
        names = [b.split(" failed", 1)[0] for b in blocked]
        reason = f"quality gate {blocked[0]}" + (
            f" (and {len(blocked) - 1} more failed)" if len(blocked) > 1 else "")
        return AttemptResult(gate_failure(names), reason)
    if not success:
        reason = strip_exception_name(first_error(events))
        failed = [s for s in env.store.list_steps(build_id)
                  if s.attempt == attempt and s.status == StepStatus.failed]
        failure = failed[-1].failure_class if failed else None
        lost = next(filter(None, map(database_lost, error_chains(events))), None)
        if failure is None and "StoreUnavailable" in error_names(events):
            failure = FailureClass.worker_lost  # the step lost its database (a restart): retried
        elif failure is None and lost is not None:
            # Dagster's own storage lost the instance's database under a step (the same server
            # restarting): the build is not at fault, and the driver's last line is no message.
            failure, reason = FailureClass.worker_lost, lost
        elif failure is None and not any(e.is_step_failure for e in events):
            # No step failed, the run did: its worker died under it (run monitoring marks the run
            # failed when a Celery task was lost), which the ladder retries like any lost worker.
            failure, reason = FailureClass.worker_lost, f"worker lost: {reason or 'the run failed'}"
        return AttemptResult(failure, reason, rung_exhausted="NothingToRepair" in error_names(events))
    build = env.store.get_build(build_id)
    if build.status == BuildStatus.running:  # the gate refused a failed evaluation
        gate = env.store.get_gate(build_id)
        return AttemptResult(FailureClass.tests_failed, gate.reason if gate else "the evaluation failed")
    return AttemptResult(None, None)


def run_events(instance, run_id: str) -> list:
    """The Dagster events of a finished run, from the instance's event log."""
    return [entry.dagster_event for entry in instance.all_logs(run_id) if entry.is_dagster_event]
