"""Step retries for the LLM-calling assets: a transient provider error (a 429, a 5xx, a timeout)
is tried again in the same run, with exponential backoff and jitter, before the ladder sees it.
Every other error fails the step at once (`Failure(allow_retries=False)`): a refused spec, an
unsafe diff or failing tests are the ladder's to judge, and run retries are off for step failures
(dagster.yaml `retry_on_asset_or_op_failure: false`), so no failed safety or golden check repeats.
"""

from __future__ import annotations

import functools

from dagster import Backoff, Failure, Jitter, RetryPolicy

from mb_core.failures import classify_failure
from mb_core.models import FailureClass

LLM_RETRY_POLICY = RetryPolicy(max_retries=2, delay=1.0, backoff=Backoff.EXPONENTIAL,
                               jitter=Jitter.PLUS_MINUS)


def is_transient(exc: BaseException) -> bool:
    return classify_failure(exc) is FailureClass.llm_transient


def transient_only(body):
    """Wraps an asset body so its retry policy applies to transient provider errors only. A run
    that found its build moved on (RunSuperseded) is no failure: it passes through to
    `skips_when_superseded`."""
    from mb_dagster.healing.attempts import RunSuperseded

    @functools.wraps(body)
    def wrapper(*args, **kwargs):
        try:
            return body(*args, **kwargs)
        except Exception as exc:
            if is_transient(exc) or isinstance(exc, RunSuperseded):
                raise
            raise Failure(description=str(exc) or type(exc).__name__, allow_retries=False) from exc

    return wrapper


def skips_when_superseded(body):
    """Wraps the body of an asset that may start a sensor's run (spec, plan, diff: the first asset
    of each attempt's job; the asset must be `output_required=False`): a duplicate run whose build
    moved on materializes nothing, its downstream assets are skipped, and the run ends as a
    success tagged `mb/outcome=superseded` with the reason (`mb/reason`), not as a red run."""
    from dagster import Output

    from mb_dagster.healing.attempts import RunSuperseded, mark_superseded

    @functools.wraps(body)
    def wrapper(context, *args, **kwargs):
        try:
            value = body(context, *args, **kwargs)
        except RunSuperseded as exc:
            mark_superseded(context.instance, context.run_id, str(exc))
            context.log.info(f"nothing to do: {exc}")
            return
        yield Output(value)

    return wrapper
