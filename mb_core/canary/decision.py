"""The recommendation: promote, continue or roll back, with the evidence for it.

It rests on the always-valid sequential tests only (the fixed-horizon tests would cry wolf when
the schedule looks again and again): a significant drop in success or a guardrail breached (v4
more than the allowed factor slower or dearer) rolls back; a significant gain in success with no
guardrail breached promotes; anything else keeps the canary running.
"""

from __future__ import annotations

from mb_core.canary.models import CanaryPolicy, Recommendation, SequentialTest, ValidationOutcome

WHAT = {"success": "success rate", "duration_s": "running time", "cost_usd": "cost"}


def recommend(validation: ValidationOutcome, v4_samples: int, baseline_samples: int,
              sequential: list[SequentialTest], policy: CanaryPolicy
              ) -> tuple[Recommendation, list[str], bool]:
    """(recommendation, reasons, regression)."""
    if not validation.passed:
        return "continue", [f"the samples failed validation ({validation.summary}): no decision on them"], False
    if min(v4_samples, baseline_samples) < policy.min_samples:
        return "continue", [(f"{v4_samples} v4 and {baseline_samples} baseline samples: "
                            f"at least {policy.min_samples} of each are needed")], False
    by_metric = {t.metric: t for t in sequential}
    success = by_metric.get("success")
    breached = [t for t in sequential if t.metric != "success" and t.significant]
    regressions: list[str] = []
    if success is not None and success.significant and (success.difference or 0) < 0:
        regressions.append(f"success rate is lower on v4 by {-success.difference:.1%} "
                           f"(always-valid p {success.always_valid_p:.4f} < {policy.alpha})")
    for test in breached:
        regressions.append(f"{WHAT.get(test.metric, test.metric)} on v4 exceeds {policy.guardrail_factor:g}x "
                           f"baseline (always-valid p {test.always_valid_p:.4f} < {policy.alpha})")
    if regressions:
        return "roll_back", regressions, True
    if success is not None and success.significant and (success.difference or 0) > 0:
        return "promote", [(f"success rate is higher on v4 by {success.difference:.1%} "
                           f"(always-valid p {success.always_valid_p:.4f} < {policy.alpha}), "
                           "no guardrail breached")], False
    p = success.always_valid_p if success is not None else None
    return "continue", ["no significant difference yet"
                        + (f" (success: always-valid p {p:.4f} >= {policy.alpha})" if p is not None else "")], False
