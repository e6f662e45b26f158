"""The fault injector: off by default, validated settings, the same seed the same faults."""

from __future__ import annotations

import pytest

from mb_core.chaos import CODE_FAULTS, ChaosSettings, FaultInjector
from mb_core.errors import InvalidSettings


def test_off_by_default():
    settings = ChaosSettings.from_env({})
    assert (settings.enabled, settings.probability) == (False, 0.0)
    assert FaultInjector(settings).fault_at("codegen", "b1", 1, faults=CODE_FAULTS) is None


@pytest.mark.parametrize("raw", ["-0.1", "1.5", "often", "nan"])
def test_a_probability_outside_0_1_is_one_clear_line(raw):
    with pytest.raises(InvalidSettings, match=r"^META_V4_CHAOS_INJECTION_PROBABILITY='.*' is not a probability"):
        ChaosSettings.from_env({"META_V4_CHAOS_ENABLED": "1", "META_V4_CHAOS_INJECTION_PROBABILITY": raw})


def test_unknown_seams_and_seeds_are_refused():
    with pytest.raises(InvalidSettings, match="META_V4_CHAOS_SEAMS: unknown moon"):
        ChaosSettings.from_env({"META_V4_CHAOS_SEAMS": "codegen,moon"})
    with pytest.raises(InvalidSettings, match="META_V4_CHAOS_SEED='x' is not a whole number"):
        ChaosSettings.from_env({"META_V4_CHAOS_SEED": "x"})


def _faults(seed: int, p: float) -> list[str | None]:
    injector = FaultInjector(ChaosSettings(enabled=True, probability=p, seed=seed))
    return [injector.fault_at("codegen", f"b{n}", 1, faults=CODE_FAULTS) for n in range(400)]


def test_the_same_seed_draws_the_same_faults_and_the_rate_follows_p():
    assert _faults(3, 0.3) == _faults(3, 0.3)
    assert _faults(3, 0.3) != _faults(4, 0.3)
    injected = [f for f in _faults(3, 0.3) if f]
    assert 80 <= len(injected) <= 160  # 400 draws at p=0.3: 120 expected
    assert set(injected) == set(CODE_FAULTS)
    assert all(_faults(5, 1.0)) and not any(_faults(5, 0.0))


def test_only_the_chosen_seams():
    injector = FaultInjector(ChaosSettings(enabled=True, probability=1.0, seams=("provider",)))
    assert injector.fault_at("codegen", "b1", 1) is None
    assert injector.fault_at("provider", "b1", 1) == "provider"
