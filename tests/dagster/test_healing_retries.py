"""Step retries on the LLM-calling assets: a transient provider error is retried in the run with
backoff and jitter; any other error, and every quality or golden check, fails at once."""

from __future__ import annotations

from pathlib import Path

import yaml
from dagster import AssetKey, Backoff, DagsterEventType, Jitter, asset, instance_for_test, materialize

from mb_core.errors import ProviderError, SpecRefused
from mb_dagster.definitions import defs
from mb_dagster.healing.retries import LLM_RETRY_POLICY, transient_only

REPO = Path(__file__).resolve().parents[2]


def _flaky(errors: list[Exception]):
    calls = []

    @asset(retry_policy=LLM_RETRY_POLICY)
    @transient_only
    def answer() -> int:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return len(calls)

    return answer, calls


def _retries(result) -> int:
    return sum(1 for e in result.all_events if e.event_type == DagsterEventType.STEP_RESTARTED)


def test_a_transient_provider_error_is_retried_with_backoff():
    answer, calls = _flaky([ProviderError("429 too many requests", kind="transient"),
                            ProviderError("503 unavailable", kind="transient")])
    with instance_for_test() as instance:
        result = materialize([answer], instance=instance)
    assert result.success and len(calls) == 3 and _retries(result) == 2
    assert result.output_for_node("answer") == 3


def test_other_errors_fail_the_step_at_once_with_their_own_message():
    for error in (ProviderError("the key was refused", kind="permanent"), SpecRefused("not a spec"),
                  ValueError("a bug")):
        answer, calls = _flaky([error])
        with instance_for_test() as instance:
            result = materialize([answer], instance=instance, raise_on_error=False)
        assert not result.success and len(calls) == 1 and _retries(result) == 0
        failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
        assert failure.cause is not None and failure.cause.message.strip().endswith(str(error))


def test_the_llm_assets_carry_the_policy_and_checks_are_never_retried():
    policy = LLM_RETRY_POLICY
    assert policy.backoff is Backoff.EXPONENTIAL and policy.jitter is Jitter.PLUS_MINUS and policy.max_retries >= 1
    graph = defs.resolve_asset_graph()
    for key in ("spec", "plan", "diff", "eval_report"):
        assert graph.get(AssetKey(key)).assets_def.op.retry_policy == policy, key
    assert graph.get(AssetKey("artifact")).assets_def.op.retry_policy is None
    # A run retried by the daemon never re-runs a failed step (a failed safety or golden check).
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    assert config["run_retries"]["retry_on_asset_or_op_failure"] is False
