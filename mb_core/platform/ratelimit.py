"""Rate limits per tenant and kind of request, with the `limits` library: on Redis when a URL is
given (every API process shares the counters), in memory otherwise."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

DEFAULT_LIMITS = {
    "specs": "20/hour",
    "plans": "20/hour",
    "runs": "10/hour",
    "approvals": "50/hour",
}


@dataclass(frozen=True)
class LimitDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int  # 0 when allowed


class TenantRateLimiter:
    def __init__(self, storage_uri: str = "memory://", limits: dict[str, str] | None = None,
                 namespace: str = "mb"):
        self.storage_uri = storage_uri
        self.storage = storage_from_string(storage_uri)
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.limits: dict[str, RateLimitItem] = {
            kind: parse(text) for kind, text in (limits or DEFAULT_LIMITS).items()
        }
        self.namespace = namespace

    def hit(self, kind: str, tenant: str) -> LimitDecision:
        """Count one request of `kind` for `tenant`, unless the tenant's window is full."""
        item = self.limits[kind]
        keys = (self.namespace, kind, tenant)
        allowed = self.strategy.hit(item, *keys)
        stats = self.strategy.get_window_stats(item, *keys)
        retry = 0 if allowed else max(1, math.ceil(stats.reset_time - time.time()))
        return LimitDecision(allowed=allowed, limit=item.amount, remaining=stats.remaining,
                             retry_after_s=retry)

    def check_storage(self) -> bool:
        return bool(self.storage.check())

    def reset(self) -> None:
        self.storage.reset()
