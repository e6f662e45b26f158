"""Canary samples validated with a Great Expectations suite before any statistic is read from
them: a duplicated build, an unknown variant or a negative duration would make every test
computed from them meaningless.

Great Expectations is imported only when samples are validated (its import takes seconds).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from mb_core.canary.models import CanarySample, ValidationOutcome
from mb_core.canary.variants import Variant

COLUMNS = ("build_id", "variant", "success", "duration_s", "cost_usd", "tokens", "iterations")
SUITE_NAME = "mb_canary_samples"
_LOCK = threading.Lock()  # the ephemeral context and the library's globals are not shared safely


def sample_rows(samples: Sequence[CanarySample]) -> list[dict[str, Any]]:
    return [{"build_id": s.build_id, "variant": s.variant.value, "success": s.success,
             "duration_s": s.duration_s, "cost_usd": s.cost_usd, "tokens": s.tokens,
             "iterations": s.iterations} for s in samples]


def _suite(gx, max_iterations: int, max_seconds: float):
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    E = gx.expectations
    for expectation in (
        E.ExpectTableColumnsToMatchSet(column_set=list(COLUMNS), exact_match=True),
        E.ExpectColumnValuesToNotBeNull(column="build_id"),
        E.ExpectColumnValuesToBeUnique(column="build_id"),
        E.ExpectColumnValuesToBeInSet(column="variant", value_set=[v.value for v in Variant]),
        E.ExpectColumnValuesToBeInSet(column="success", value_set=[True, False]),
        E.ExpectColumnValuesToBeBetween(column="duration_s", min_value=0, max_value=max_seconds),
        E.ExpectColumnValuesToBeBetween(column="cost_usd", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="tokens", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="iterations", min_value=1, max_value=max_iterations),
    ):
        suite.add_expectation(expectation)
    return suite


def validate_samples(samples: Sequence[CanarySample], max_iterations: int = 50,
                     max_seconds: float = 86_400.0) -> ValidationOutcome:
    """Never raises: a failure to validate is a failed validation with the reason."""
    if not samples:
        return ValidationOutcome(passed=True, summary="no samples to validate")
    try:
        with _LOCK:
            outcomes = _validate(sample_rows(samples), max_iterations, max_seconds)
    except Exception as exc:  # noqa: BLE001 - a validator failing is a finding, never a crash
        return ValidationOutcome(passed=False, summary=f"the samples could not be validated: "
                                                       f"{type(exc).__name__}: {exc}"[:300])
    failed = [o for o in outcomes if not o["success"]]
    summary = (f"{len(outcomes)} expectations met over {len(samples)} samples" if not failed else
               f"{len(failed)} of {len(outcomes)} expectations failed, first {failed[0]['expectation']}"
               + (f" on {failed[0]['column']}" if failed[0]["column"] else ""))
    return ValidationOutcome(passed=not failed, summary=summary, expectations=outcomes)


def _validate(rows: list[dict[str, Any]], max_iterations: int, max_seconds: float) -> list[dict[str, Any]]:
    import great_expectations as gx

    from mb_core.evaluation.results_table import validate_rows

    return validate_rows(rows, COLUMNS, "mb_canary", "canary_samples",
                         lambda: _suite(gx, max_iterations, max_seconds))
