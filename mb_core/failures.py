"""Which failure class an error or an evaluation belongs to: the input of the healing ladder."""

from __future__ import annotations

from pydantic import ValidationError

from mb_core.errors import (
    BudgetExceeded,
    DiffApplyFailed,
    DiffRejected,
    MBError,
    ProviderError,
    SandboxError,
    SpecRefused,
)
from mb_core.models import EvalReport, FailureClass


class WorkerLost(MBError):
    """The process running a build's attempt is gone (killed, crashed, its run ended unseen)."""


class BreakerOpen(MBError):
    """A circuit breaker refuses the attempt: its class failed too often lately."""

    def __init__(self, message: str, failure_class: FailureClass):
        super().__init__(message)
        self.failure_class = failure_class


class NothingToRepair(MBError):
    """A repair rung found nothing it can change; the ladder moves on to the next rung."""

    def __init__(self, message: str, failure_class: FailureClass = FailureClass.tests_failed):
        super().__init__(message)
        self.failure_class = failure_class


# Quality gates whose failure means the change itself is unsafe: rolled back, never retried.
SAFETY_GATES = frozenset({"no_secrets", "write_scope"})
REQUIREMENT_GATES = frozenset({"requirements_covered"})


def gate_failure(check_names: list[str]) -> FailureClass:
    """The class of a run whose blocking quality gates failed (the most serious one wins)."""
    names = set(check_names)
    if names & SAFETY_GATES:
        return FailureClass.safety_violation
    if names and names <= REQUIREMENT_GATES:
        return FailureClass.requirement_unmet
    return FailureClass.tests_failed


_BY_ERROR: tuple[tuple[type[BaseException], FailureClass], ...] = (
    (SpecRefused, FailureClass.spec_refused),
    (DiffRejected, FailureClass.safety_violation),
    (DiffApplyFailed, FailureClass.diff_apply),
    (SandboxError, FailureClass.sandbox_error),
    (BudgetExceeded, FailureClass.budget_exceeded),
    (WorkerLost, FailureClass.worker_lost),
    # An answer that does not fit its schema: the provider's own check or pydantic's.
    (ValidationError, FailureClass.llm_invalid_output),
)

_PROVIDER_KINDS = {"transient": FailureClass.llm_transient, "invalid_output": FailureClass.llm_invalid_output}


def classify_failure(exc: BaseException) -> FailureClass | None:
    """The class of a step's error, or None when the ladder has no rung for it (a permanent
    provider error such as a refused key, a cancelled build, a bug): such a build just fails."""
    from mb_core.store.store import StoreUnavailable  # the store imports the models this module does

    if isinstance(exc, (BreakerOpen, NothingToRepair)):
        return exc.failure_class
    if isinstance(exc, StoreUnavailable):
        # The store was there when the attempt began (a build row exists): losing it mid-step is
        # its server restarting or a dropped link, and the worker lost its footing like a killed
        # one; the retry rung is bounded, so a store that stays down still ends the build.
        return FailureClass.worker_lost
    if isinstance(exc, ProviderError):
        return _PROVIDER_KINDS.get(exc.kind)
    for kind, failure in _BY_ERROR:
        if isinstance(exc, kind):
            return failure
    cause = exc.__cause__
    return classify_failure(cause) if cause is not None and cause is not exc else None


# What the PostgreSQL driver says when the server went away under a connection (a restart, a
# failover, a dropped link): transient, unlike a wrong query or a refused login.
_CONNECTION_LOST = ("server closed the connection", "terminating connection", "connection refused",
                    "could not connect", "connection already closed", "ssl connection has been closed",
                    "connection reset", "no connection to the server", "the database system is")
_DRIVER_ERRORS = frozenset({"OperationalError", "InterfaceError", "AdminShutdown"})


def database_lost(chain: list[tuple[str, str]]) -> str | None:
    """The one-line reason when an error chain (class name, message, outermost first) is a lost
    database connection, else None. Dagster's own storage raises these when the instance's
    server restarts mid-step; they say nothing about the build, so the attempt is retried."""
    for name, message in reversed(chain):  # the driver's own words are innermost
        lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
        said = strip_exception_name(lines[0] if lines else "")
        if said.startswith("(") and ") " in said:  # "(psycopg2.OperationalError) server closed ..."
            said = said.split(") ", 1)[1]
        if name in _DRIVER_ERRORS and any(cue in message.lower() for cue in _CONNECTION_LOST):
            return f"the database connection was lost mid-step ({said}); the attempt is retried"
    return None


def strip_exception_name(message: str) -> str:
    """ "psycopg2.OperationalError: server closed ..." -> "server closed ..." """
    head, sep, rest = message.partition(": ")
    return rest if sep and head.replace(".", "").replace("_", "").isalnum() and " " not in head else message


def report_failure(report: EvalReport) -> FailureClass | None:
    """Why an evaluation failed (None: it passed)."""
    if report.passed:
        return None
    return report.failure_class or FailureClass.tests_failed
