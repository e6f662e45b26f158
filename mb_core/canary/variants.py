"""Which variant a build runs, and what the variants differ in.

`v4` is the builder with the healing ladder (Retry -> Patch -> Re-plan -> Rollback); `baseline`
is the behaviour before it: one attempt, and a failed attempt rolls the build back without
repair. The comparison therefore measures what the ladder buys (success) and what it costs
(running time, tokens, USD, iterations).

The assignment is a pure function of the build id and the canary percentage: the same build
always lands in the same variant (a rerun or replay keeps it), and raising the percentage only
moves builds from baseline to v4, never back.
"""

from __future__ import annotations

import hashlib
from enum import Enum

from mb_core.ladder import RungLimits

BUCKETS = 10_000  # percent in hundredths: 0.01 % resolution
VARIANT_TAG = "mb/variant"


class Variant(str, Enum):
    v4 = "v4"
    baseline = "baseline"


def bucket_of(build_id: str) -> int:
    """A stable bucket in [0, BUCKETS) from the build id (sha256, so ids that differ in one
    character land far apart)."""
    digest = hashlib.sha256(f"mb-canary:{build_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign_variant(build_id: str, percent: float | None, v4_enabled: bool = True) -> Variant:
    """The build's variant. `percent` is FEATURE_META_V4_CANARY_PERCENT when it is set; None (never
    set) means no canary runs and every build gets v4 as before. v4 switched off means baseline."""
    if not v4_enabled:
        return Variant.baseline
    if percent is None:
        return Variant.v4
    if not 0 <= percent <= 100:
        raise ValueError(f"a canary percentage is between 0 and 100, not {percent!r}")
    return Variant.v4 if bucket_of(build_id) < round(percent * BUCKETS / 100) else Variant.baseline


def randomized(percent: float | None, v4_enabled: bool = True) -> bool:
    """Whether builds under this setting were split at random (so their samples may be compared):
    a percentage strictly between 0 and 100 with v4 on."""
    return v4_enabled and percent is not None and 0 < percent < 100


def rung_limits(variant: Variant) -> RungLimits:
    """What the repair ladder may do for a build of this variant."""
    if variant is Variant.baseline:
        return RungLimits(retry=0, patch=0, replan=0)
    return RungLimits()
