"""The test-results table through a real Great Expectations suite."""

from __future__ import annotations

from mb_core.evaluation.results_table import validate_results_table
from mb_core.models import CheckSeverity, TestCaseResult, TestOutcome


def row(nodeid: str, seconds: float = 0.1) -> TestCaseResult:
    return TestCaseResult(nodeid=nodeid, outcome=TestOutcome.passed, seconds=seconds)


def test_a_sound_table_meets_every_expectation():
    check = validate_results_table([row("tests/test_a.py::test_one"), row("tests/test_a.py::test_two")])
    assert check.passed and check.severity == CheckSeverity.warn
    assert check.evidence["rows"] == 2
    assert all(e["success"] for e in check.evidence["expectations"])
    assert len(check.evidence["expectations"]) == 9


def test_duplicates_odd_ids_and_impossible_timings_are_named():
    check = validate_results_table(
        [row("tests/test_a.py::test_one"), row("tests/test_a.py::test_one"), row("oddity", seconds=9999)],
        max_seconds=60,
    )
    assert not check.passed
    failed = {(e["expectation"], e["column"]) for e in check.evidence["expectations"] if not e["success"]}
    assert failed == {("expect_column_values_to_be_unique", "nodeid"),
                      ("expect_column_values_to_match_regex", "nodeid"),
                      ("expect_column_values_to_be_between", "seconds")}
    assert check.summary.startswith("3 of 9 expectations failed")


def test_an_empty_table_fails_validation_without_raising():
    check = validate_results_table([])
    assert not check.passed
    assert "expect_table_row_count_to_be_between" in check.summary
