"""Errors a user can act on. Each carries a one-line message meant to be printed as is."""

from __future__ import annotations


class MBError(Exception):
    """Base for every error the CLI prints as a one-line message and exits non-zero on."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidSpec(MBError):
    """The specification text cannot be read at all (empty, too large, not UTF-8)."""


class SpecRefused(MBError):
    """The specification was read but holds nothing buildable (or asks for something unsafe)."""


class UnknownBuild(MBError):
    """No build has this id."""


class InvalidState(MBError):
    """The build exists but is not in a state that allows the request (approving twice...)."""


class DiffRejected(MBError):
    """A diff broke the write scope, the denylist or the secrets scan; nothing was applied."""

    def __init__(self, message: str, violations: list[str] | None = None):
        super().__init__(message)
        self.violations = violations or []


class DiffApplyFailed(MBError):
    """`git apply` refused the diff; the workspace is unchanged."""


class WorkspaceError(MBError):
    """The build's git workspace cannot be made, opened or changed as asked."""


class SandboxError(MBError):
    """The sandbox could not run the generated tests (not a test failure)."""


class ProviderError(MBError):
    """An LLM provider failed; `kind` says whether retrying may help."""

    def __init__(self, message: str, kind: str = "permanent"):
        super().__init__(message)
        self.kind = kind  # transient | invalid_output | permanent


class InvalidSettings(MBError):
    """A setting (environment variable, settings file) has a value the builder cannot use."""


class BudgetExceeded(MBError):
    """A build's token, cost or time budget is spent."""
