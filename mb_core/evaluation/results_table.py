"""The test-results table, validated with a Great Expectations suite before any score is read
from it: a table with duplicate ids, unknown outcomes or impossible timings would make every
metric computed from it meaningless.

Great Expectations is imported only when a table is validated (its import takes seconds).
"""

from __future__ import annotations

import threading
from typing import Any

from mb_core.models import CheckSeverity, QualityCheckResult, TestCaseResult, TestOutcome
from mb_core.quality import CATEGORIES, category_of

COLUMNS = ("nodeid", "outcome", "seconds", "category")
SUITE_NAME = "mb_test_results"
# One validation at a time: the ephemeral context and the library's globals are not shared safely.
_LOCK = threading.Lock()


def results_rows(tests: list[TestCaseResult]) -> list[dict[str, Any]]:
    return [{"nodeid": t.nodeid, "outcome": t.outcome.value, "seconds": t.seconds,
             "category": category_of(t.nodeid)} for t in tests]


def _suite(gx, max_seconds: float):
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    E = gx.expectations
    for expectation in (
        E.ExpectTableRowCountToBeBetween(min_value=1),
        E.ExpectTableColumnsToMatchSet(column_set=list(COLUMNS), exact_match=True),
        E.ExpectColumnValuesToNotBeNull(column="nodeid"),
        E.ExpectColumnValuesToBeUnique(column="nodeid"),
        E.ExpectColumnValuesToMatchRegex(column="nodeid", regex=r"^tests/.+\.py::"),
        E.ExpectColumnValuesToBeInSet(column="outcome", value_set=[o.value for o in TestOutcome]),
        E.ExpectColumnValuesToNotBeNull(column="seconds"),
        E.ExpectColumnValuesToBeBetween(column="seconds", min_value=0, max_value=max_seconds),
        E.ExpectColumnValuesToBeInSet(column="category", value_set=list(CATEGORIES)),
    ):
        suite.add_expectation(expectation)
    return suite


def validate_results_table(tests: list[TestCaseResult], max_seconds: float = 3600.0
                           ) -> QualityCheckResult:
    """A WARN check named results_table_valid; its evidence lists every expectation's outcome.

    Validation never raises: a failure to validate is itself a failed check with the reason.
    """
    try:
        with _LOCK:
            outcomes = _validate(results_rows(tests), max_seconds)
    except Exception as exc:  # noqa: BLE001 - a validator failing is a finding, never a crashed build
        return QualityCheckResult(
            name="results_table_valid", passed=False, severity=CheckSeverity.warn,
            summary=f"the test-results table could not be validated: {type(exc).__name__}: {exc}"[:300],
            evidence={"expectations": []},
        )
    failed = [o for o in outcomes if not o["success"]]
    summary = (f"{len(outcomes)} expectations met over {len(tests)} rows" if not failed else
               f"{len(failed)} of {len(outcomes)} expectations failed, first {failed[0]['expectation']}"
               + (f" on {failed[0]['column']}" if failed[0]["column"] else ""))
    return QualityCheckResult(name="results_table_valid", passed=not failed,
                              severity=CheckSeverity.warn, summary=summary,
                              evidence={"suite": SUITE_NAME, "rows": len(tests),
                                        "expectations": outcomes})


def preload() -> None:
    """Imports Great Expectations ahead of use: callers overlap its seconds-long import with work
    that waits on a subprocess (the sandboxed test run)."""
    import great_expectations  # noqa: F401
    import pandas  # noqa: F401


def _validate(rows: list[dict[str, Any]], max_seconds: float) -> list[dict[str, Any]]:
    import great_expectations as gx

    return validate_rows(rows, COLUMNS, "mb_eval", "test_results", lambda: _suite(gx, max_seconds))


def validate_rows(rows: list[dict[str, Any]], columns, source: str, asset: str, make_suite) -> list[dict[str, Any]]:
    """Run a Great Expectations suite over rows in an ephemeral context (no progress bars): one
    outcome per expectation, with a few unexpected values. Shared by every table we validate;
    `make_suite` builds the suite once the context exists (GX needs one first)."""
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    frame = pd.DataFrame(rows, columns=list(columns))
    batch = (context.data_sources.add_pandas(source)
             .add_dataframe_asset(asset)
             .add_batch_definition_whole_dataframe("all")
             .get_batch(batch_parameters={"dataframe": frame}))
    result = batch.validate(make_suite())
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        detail = item.result or {}
        outcomes.append({
            "expectation": config.type,
            "column": config.kwargs.get("column") or "",
            "success": bool(item.success),
            "unexpected_count": detail.get("unexpected_count"),
            "sample": [str(v)[:120] for v in (detail.get("partial_unexpected_list") or [])[:5]],
        })
    return outcomes
