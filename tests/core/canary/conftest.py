from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from mb_core.canary.models import CanarySample
from mb_core.canary.variants import Variant, assign_variant

START = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic_samples(n: int, *, seed: int, v4_success: float, baseline_success: float,
                      v4_duration: float = 20.0, baseline_duration: float = 20.0,
                      percent: float = 50, tenant: str = "acme") -> list[CanarySample]:
    """n builds split by the real assignment, outcomes drawn from the given rates (log-normal
    running times around the given medians, cost and tokens following the time)."""
    rng = np.random.default_rng(seed)
    samples = []
    for k in range(n):
        build_id = f"b{seed:04d}-{k:05d}"
        variant = assign_variant(build_id, percent)
        v4 = variant is Variant.v4
        success = bool(rng.random() < (v4_success if v4 else baseline_success))
        duration = float(rng.lognormal(np.log(v4_duration if v4 else baseline_duration), 0.3))
        samples.append(CanarySample(
            build_id=build_id, tenant=tenant, variant=variant, randomized=True, canary_percent=percent,
            success=success, status="released" if success else "rolled_back", duration_s=round(duration, 3),
            cost_usd=round(duration * 0.001, 6), tokens=int(duration * 100), iterations=int(rng.integers(1, 4)),
            finished_at=START + timedelta(minutes=k)))
    return samples


@pytest.fixture
def samples():
    return synthetic_samples
