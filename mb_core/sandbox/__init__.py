"""The sandbox generated tests run in: bubblewrap or a util-linux fallback, a uid of its own,
whole-sandbox caps (control groups, a capped tmpfs), rlimits and a timeout. Never root."""

from mb_core.sandbox.commands import PytestRun, hidden_dirs, interpreter_roots, pytest_argv
from mb_core.sandbox.junit import parse_junit
from mb_core.sandbox.limits import DEFAULT_LIMITS, SandboxLimits
from mb_core.sandbox.runner import Harness, Prepare, SandboxResult, run_tests, sandbox_status
from mb_core.sandbox.uids import SANDBOX_UIDS

__all__ = [
           "DEFAULT_LIMITS",
           "SANDBOX_UIDS",
           "Harness",
           "Prepare",
           "PytestRun",
           "SandboxLimits",
           "SandboxResult",
           "hidden_dirs",
           "interpreter_roots",
           "parse_junit",
           "pytest_argv",
           "run_tests",
           "sandbox_status",
]
