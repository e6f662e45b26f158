"""QA/Evaluator: reads a sandboxed test run and classifies it.

Running the tests is the sandbox's job (mb_core.evaluation); this agent judges the result, so an LLM
provider can give a better summary of a failure while the offline rules stay exact.
"""

from __future__ import annotations

import re

from mb_core.agents.base import AgentDefinition, AgentRole
from mb_core.agents.io import QAInput, QAVerdict
from mb_core.models import FailureClass, TestOutcome

_ERROR_LINE = re.compile(r"^E\s+(.*)$", re.MULTILINE)


def classify(inp: QAInput) -> QAVerdict:
    report = inp.report
    failing = [t.nodeid for t in report.tests if t.outcome in (TestOutcome.failed, TestOutcome.error)]
    sandbox = report.sandbox
    if sandbox is not None and sandbox.timed_out:
        return QAVerdict(
            passed=False,
            failure_class=FailureClass.sandbox_error,
            summary=f"the test run hit the sandbox timeout of {sandbox.timeout_s} s",
            failing_tests=failing,
        )
    if failing:
        first_error = _ERROR_LINE.search(report.output_tail)
        cause = f": {first_error.group(1).strip()}" if first_error else ""
        return QAVerdict(
            passed=False,
            failure_class=FailureClass.tests_failed,
            summary=f"{len(failing)} of {len(report.tests)} tests failed, first {failing[0]}{cause}",
            failing_tests=failing,
        )
    if not report.tests:
        code = sandbox.exit_code if sandbox else None
        return QAVerdict(
            passed=False,
            failure_class=FailureClass.sandbox_error,
            summary=f"no test ran (exit code {code}); the generated project has no runnable tests "
            "or the sandbox could not start it",
        )
    if sandbox is not None and sandbox.exit_code not in (0, None):
        return QAVerdict(
            passed=False,
            failure_class=FailureClass.tests_failed,
            summary=f"pytest exited with code {sandbox.exit_code} although no test failed",
        )
    return QAVerdict(passed=True, summary=f"all {len(report.tests)} tests passed")


DEFINITION = AgentDefinition(
    role=AgentRole.qa,
    input_model=QAInput,
    output_model=QAVerdict,
    offline_answer=classify,
    purpose="classify a sandboxed test run into pass or a failure class",
)
