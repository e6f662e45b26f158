"""Budgets and the run worker seam through the real CLI: a token budget too small for the next LLM
call stops the build before that call and rolls it back without a retry; a SIGKILL at the run
worker seam really kills `mb build`, with the event in the store for whoever heals the build."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

MB = str(Path(sys.executable).parent / "mb")
CRM = "Build a CRM system with contacts and deals"


def mb(*args: str, env_extra: dict | None = None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([MB, *args], capture_output=True, env=env, timeout=900, check=False)


def out(result) -> str:
    return result.stdout.decode() + result.stderr.decode()


def _store():
    from mb_core.pipeline import BuildEnvironment

    return BuildEnvironment.open().store


def test_a_budget_spent_between_two_calls_stops_the_next_one_and_rolls_back(mb_home):
    # The spec and the plan's two calls fit in 10,000 tokens; the Codegen Engineer's prompt does
    # not: the attempt began with budget left and is stopped inside, before that call.
    result = mb("build", CRM, env_extra={"META_BUILDER_TOKEN_BUDGET": "10000"})
    err = result.stderr.decode().strip()
    assert result.returncode != 0 and "Traceback" not in out(result)
    assert len(err.splitlines()) == 1, err
    assert "token budget too small for the next call" in err and "codegen was not called" in err, err
    assert "the budget is spent: rolled back" in err, err
    build_id = result.stdout.decode().split()[1]

    store = _store()
    build = store.get_build(build_id)
    assert (build.status.value, build.failure_class.value) == ("rolled_back", "budget_exceeded")
    assert [a.phase.value for a in store.list_attempts(build_id)] == ["build"]  # never retried
    roles = [json.loads(e.request_json)["role"] for e in store.list_exchanges(build_id)]
    assert roles == ["product_architect", "system_designer", "security"]
    assert store.usage_totals(build_id)["total"]["total_tokens"] <= 10000
    [failed] = [s for s in store.list_steps(build_id) if s.status.value == "failed"]
    assert (failed.name, failed.failure_class.value) == ("diff", "budget_exceeded")
    assert not (mb_home / "artifacts" / build_id).exists()


def test_the_run_worker_seam_kills_the_build_process(mb_home):
    result = mb("build", CRM, env_extra={"META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_INJECTION_PROBABILITY": "1",
                                         "META_V4_CHAOS_SEAMS": "worker", "META_V4_CHAOS_SEED": "3"})
    assert result.returncode == -signal.SIGKILL, out(result)
    build_id = result.stdout.decode().split()[1]

    from mb_core.chaos import WORKER_STEPS, ChaosSettings, FaultInjector

    planned = FaultInjector(ChaosSettings(enabled=True, probability=1.0, seed=3, seams=("worker",))).plan(build_id, 1)
    store = _store()
    [event] = store.list_chaos_events(build_id)
    assert (event.seam, event.fault, event.attempt, event.recovered) == ("worker", "sigkill", 1, None)
    # Killed at the start of the planned step: that step is left running, nothing after it began.
    steps = store.list_steps(build_id)
    assert steps[-1].name == WORKER_STEPS[planned.point] and steps[-1].status.value == "running"
    assert len(steps) == planned.point + 1
    assert store.get_build(build_id).status.value == "running"  # for the reconciler to find

    stats = out(mb("chaos", "stats"))
    assert "worker/sigkill" in stats, stats
    row = next(line for line in stats.splitlines() if line.startswith("worker/sigkill"))
    assert row.split()[1:] == ["1", "0", "0", "1"], row  # injected 1, still open


def test_bad_chaos_settings_are_one_line_each_and_leave_no_build(mb_home):
    on = {"META_V4_CHAOS_ENABLED": "1"}
    for extra, message in (
        ({"META_V4_CHAOS_INJECTION_PROBABILITY": "-0.5"},
         "error: META_V4_CHAOS_INJECTION_PROBABILITY='-0.5' is not a probability: use a number from 0 to 1"),
        ({"META_V4_CHAOS_INJECTION_PROBABILITY": "2"},
         "error: META_V4_CHAOS_INJECTION_PROBABILITY='2' is not a probability: use a number from 0 to 1"),
        ({"META_V4_CHAOS_SEAMS": "provider,moon"}, "error: META_V4_CHAOS_SEAMS: unknown moon (one of: "),
        ({"META_V4_CHAOS_CODE_FAULTS": "tide"}, "error: META_V4_CHAOS_CODE_FAULTS: unknown tide (one of: "),
        ({"META_V4_CHAOS_SEED": "x"}, "error: META_V4_CHAOS_SEED='x' is not a whole number"),
    ):
        result = mb("build", CRM, env_extra={**on, **extra})
        err = result.stderr.decode().strip()
        assert result.returncode != 0 and len(err.splitlines()) == 1 and err.startswith(message), out(result)
    assert "no builds yet" in out(mb("list"))
    assert "no chaos events recorded" in out(mb("chaos", "stats"))
