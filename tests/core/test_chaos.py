"""The fault injector: off by default, validated settings, the same seed the same faults, one
fault per attempt, and how a fault's build is said to have recovered."""

from __future__ import annotations

from collections import Counter

import pytest

from mb_core import chaos
from mb_core.chaos import (
    CODE_FAULTS,
    SEAM_FAULTS,
    SEAMS,
    ChaosSettings,
    FaultInjector,
    attempt_scope,
    inject,
    recovery_of,
)
from mb_core.errors import InvalidSettings


def test_off_by_default():
    settings = ChaosSettings.from_env({})
    assert (settings.enabled, settings.probability) == (False, 0.0)
    injector = FaultInjector(settings)
    assert injector.plan("b1", 1) is None
    assert injector.fault_at("codegen", "b1", 1) is None


@pytest.mark.parametrize("raw", ["-0.1", "1.5", "often", "nan"])
def test_a_probability_outside_0_1_is_one_clear_line(raw):
    with pytest.raises(InvalidSettings, match=r"^META_V4_CHAOS_INJECTION_PROBABILITY='.*' is not a probability"):
        ChaosSettings.from_env({"META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_INJECTION_PROBABILITY": raw})


def test_unknown_seams_faults_and_seeds_are_refused():
    with pytest.raises(InvalidSettings, match="META_V4_CHAOS_SEAMS: unknown moon"):
        ChaosSettings.from_env({"META_V4_CHAOS_SEAMS": "codegen,moon"})
    with pytest.raises(InvalidSettings, match="META_V4_CHAOS_CODE_FAULTS: unknown tide"):
        ChaosSettings.from_env({"META_V4_CHAOS_CODE_FAULTS": "http_429,tide"})
    with pytest.raises(InvalidSettings, match="META_V4_CHAOS_SEED='x' is not a whole number"):
        ChaosSettings.from_env({"META_V4_CHAOS_SEED": "x"})


def _plans(seed: int, p: float, seams=SEAMS, attempts=(1,)):
    injector = FaultInjector(ChaosSettings(enabled=True, probability=p, seed=seed, seams=seams))
    return [injector.plan(f"b{n}", a) for n in range(400) for a in attempts]


def test_the_same_seed_draws_the_same_faults_and_the_rate_follows_p():
    assert _plans(3, 0.3) == _plans(3, 0.3)
    assert _plans(3, 0.3) != _plans(4, 0.3)
    planned = [f for f in _plans(3, 0.3) if f]
    assert 80 <= len(planned) <= 160  # 400 attempts at p=0.3: 120 expected
    assert {f.seam for f in planned} == set(SEAMS)
    assert all(f.fault in SEAM_FAULTS[f.seam] for f in planned)
    assert all(_plans(5, 1.0)) and not any(_plans(5, 0.0))


def test_each_attempt_meets_at_most_one_fault_at_one_point():
    injector = FaultInjector(ChaosSettings(enabled=True, probability=1.0, seed=7))
    for n in range(50):
        planned = injector.plan(f"b{n}", 1)
        hits = [(seam, call) for seam in SEAMS for call in range(10)
                if injector.fault_at(seam, f"b{n}", 1, call)]
        assert hits == [(planned.seam, planned.point)]
    # Another attempt of the same build draws again.
    assert len({injector.plan("b1", a).model_dump_json() for a in range(1, 30)}) > 5


def test_only_the_chosen_seams_and_faults():
    settings = ChaosSettings.from_env({"META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_INJECTION_PROBABILITY": "1",
                                       "META_V4_CHAOS_SEAMS": "provider,sandbox",
                                       "META_V4_CHAOS_CODE_FAULTS": "http_429,crash"})
    plans = [FaultInjector(settings).plan(f"b{n}", 1) for n in range(100)]
    assert Counter((p.seam, p.fault) for p in plans).keys() == {("provider", "http_429"), ("sandbox", "crash")}
    # A narrowing that names none of a seam's faults leaves that seam all of its own.
    settings = ChaosSettings(enabled=True, probability=1.0, seams=("codegen",), code_faults=("http_500",))
    assert {FaultInjector(settings).plan(f"b{n}", 1).fault for n in range(100)} == set(CODE_FAULTS)


def test_seams_inject_only_inside_an_attempt_scope_and_record_first():
    settings = ChaosSettings(enabled=True, probability=1.0, seed=1, seams=("store",))
    injector = FaultInjector(settings)
    planned = injector.plan("scope-b1", 1)
    assert inject("store") is None  # no scope: never
    recorded = []
    seen = []
    with attempt_scope("scope-b1", 1, injector, record=lambda *args: recorded.append(args)):
        for _ in range(10):
            seen.append(inject("store"))
        assert inject("provider") is None
    assert seen == [planned.fault if i == planned.point else None for i in range(10)]
    assert recorded == [("scope-b1", 1, "store", planned.fault, 1)]
    with attempt_scope("scope-b1", 1, FaultInjector(ChaosSettings())):
        assert inject("store") is None  # chaos off: the scope is empty


@pytest.mark.parametrize(("status", "attempts", "expected"), [
    ("running", [(1, "build", "running")], (None, "")),
    ("released", [(1, "build", "succeeded")], (True, "absorbed in attempt 1 (the store seam's own retry)")),
    ("released", [(1, "build", "failed"), (2, "retry", "succeeded")], (True, "healed by retry")),
    ("awaiting_approval", [(1, "build", "failed"), (2, "patch", "failed"), (3, "replan", "succeeded")],
     (True, "healed by patch -> replan")),
    ("rolled_back", [(1, "build", "failed")], (False, "rolled_back: no attempts left")),
])
def test_recovery_says_whether_and_how(status, attempts, expected):
    error = "no attempts left" if status == "rolled_back" else ""
    assert recovery_of("store", 1, status, error, attempts) == expected


@pytest.mark.parametrize("fault", SEAM_FAULTS["git_apply"])
def test_a_damaged_patch_is_refused_by_git_itself(tmp_path, fault):
    import subprocess

    from mb_core.models import GeneratedFile, GeneratedFiles
    from mb_core.workspace import Workspace

    ws = Workspace.create(tmp_path / "ws")
    patch = ws.render_diff(GeneratedFiles(files=[GeneratedFile(path="app/a.py", content="A = 1\nB = 2\n"),
                                                 GeneratedFile(path="app/b.py", content="C = 3\n")]))
    damaged = chaos.corrupt_patch(patch.encode(), fault)
    assert damaged != patch.encode()
    check = subprocess.run(["git", "-C", str(ws.path), "apply", "--check", "--index"], input=damaged,
                           capture_output=True, check=False)
    assert check.returncode != 0 and b"corrupt patch" in check.stderr, check.stderr
    undamaged = subprocess.run(["git", "-C", str(ws.path), "apply", "--check", "--index"],
                               input=patch.encode(), capture_output=True, check=False)
    assert undamaged.returncode == 0, undamaged.stderr
