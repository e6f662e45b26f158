"""Circuit breakers, one per failure class, with their state in the store so every process (the
CLI, the daemon's sensors, each run worker) sees the same breaker.

pybreaker does the state machine (closed -> open after `fail_max` failures in a row, open -> a
half-open trial after the cooldown, the trial closing or re-opening it); `StoreBreakerStorage` is
its storage. While a class's breaker is open, the ladder fails fast: the build rolls back with the
breaker's name and the time it lets a trial through.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pybreaker
from pydantic import BaseModel

from mb_core.errors import InvalidSettings
from mb_core.models import BreakerRecord, BreakerState, FailureClass

BREAKER_NAMES = frozenset(f.value for f in FailureClass if f is not FailureClass.awaiting_approval)

_TO_PYBREAKER = {BreakerState.closed: pybreaker.STATE_CLOSED, BreakerState.open: pybreaker.STATE_OPEN,
                 BreakerState.half_open: pybreaker.STATE_HALF_OPEN}
_FROM_PYBREAKER = {v: k for k, v in _TO_PYBREAKER.items()}


class StoreBreakerStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker's storage over the store's `circuit_breakers` table (counters add up in SQL)."""

    def __init__(self, store, name: str):
        super().__init__(name)
        self._store = store

    def _record(self) -> BreakerRecord:
        return self._store.get_breaker(self.name) or BreakerRecord(name=self.name)

    @property
    def state(self) -> str:
        return _TO_PYBREAKER[self._record().state]

    @state.setter
    def state(self, state: str) -> None:
        self._store.update_breaker(self.name, state=_FROM_PYBREAKER[state])

    def increment_counter(self) -> None:
        self._store.update_breaker(self.name, increment={"fail_counter": 1})

    def reset_counter(self) -> None:
        self._store.update_breaker(self.name, fail_counter=0)

    def increment_success_counter(self) -> None:
        self._store.update_breaker(self.name, increment={"success_counter": 1})

    def reset_success_counter(self) -> None:
        self._store.update_breaker(self.name, success_counter=0)

    @property
    def counter(self) -> int:
        return self._record().fail_counter

    @property
    def success_counter(self) -> int:
        return self._record().success_counter

    @property
    def opened_at(self) -> datetime | None:
        return self._record().opened_at

    @opened_at.setter
    def opened_at(self, when: datetime) -> None:
        self._store.update_breaker(self.name, opened_at=when)


class BreakerSettings:
    def __init__(self, fail_max: int = 5, cooldown_s: float = 60.0):
        self.fail_max, self.cooldown_s = fail_max, cooldown_s

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BreakerSettings:
        """MB_BREAKER_FAIL_MAX (failures in a row that open a breaker, default 5) and
        MB_BREAKER_COOLDOWN_SECONDS (how long it stays open before a trial, default 60)."""
        env = os.environ if env is None else env
        values = {}
        for var, kind, default in (("MB_BREAKER_FAIL_MAX", int, 5), ("MB_BREAKER_COOLDOWN_SECONDS", float, 60.0)):
            raw = (env.get(var) or "").strip()
            try:
                values[var] = kind(raw) if raw else default
            except ValueError:
                raise InvalidSettings(f"{var}={raw!r} is not a number") from None
            if values[var] <= 0:
                raise InvalidSettings(f"{var}={raw} must be above 0")
        return cls(int(values["MB_BREAKER_FAIL_MAX"]), float(values["MB_BREAKER_COOLDOWN_SECONDS"]))


class _Failure(Exception):
    """What a recorded failure raises inside pybreaker's call."""


def breaker_for(store, failure: FailureClass | str, settings: BreakerSettings | None = None) -> pybreaker.CircuitBreaker:
    settings = settings or BreakerSettings.from_env()
    name = FailureClass(failure).value
    return pybreaker.CircuitBreaker(fail_max=settings.fail_max, reset_timeout=settings.cooldown_s,
                                    state_storage=StoreBreakerStorage(store, name), name=name)


def record_outcome(store, failure: FailureClass | str, succeeded: bool,
                   settings: BreakerSettings | None = None) -> BreakerRecord:
    """Feed one attempt's outcome for `failure` to its breaker (a failure, or a repair of that class
    that worked). An open breaker within its cooldown ignores it; after the cooldown this is the
    half-open trial that closes or re-opens it."""
    breaker = breaker_for(store, failure, settings)

    def outcome() -> None:
        if not succeeded:
            raise _Failure(str(failure))

    try:
        breaker.call(outcome)
    except (_Failure, pybreaker.CircuitBreakerError):
        pass
    return store.get_breaker(breaker.name)


def breaker_state(store, failure: FailureClass | str, settings: BreakerSettings | None = None,
                  now: datetime | None = None) -> tuple[BreakerState, datetime | None]:
    """The state the ladder sees: open until the cooldown is over, then half-open (a trial may
    run); with the time an open breaker lets a trial through."""
    return state_of(store.get_breaker(FailureClass(failure).value), settings or BreakerSettings.from_env(), now)


def state_of(record: BreakerRecord | None, settings: BreakerSettings,
             now: datetime | None = None) -> tuple[BreakerState, datetime | None]:
    """`breaker_state` of a record already read (pure)."""
    if record is None or record.state is BreakerState.closed:
        return BreakerState.closed, None
    if record.state is BreakerState.open and record.opened_at is not None:
        reopens = record.opened_at + timedelta(seconds=settings.cooldown_s)
        if (now or datetime.now(UTC)) < reopens:
            return BreakerState.open, reopens
        return BreakerState.half_open, None
    return record.state, None


class BreakerView(BaseModel):
    """One breaker as every driver shows it (`mb breakers`, the API, /metrics): its state as the
    ladder sees it now, and when an open one lets a trial through."""

    name: str
    state: BreakerState
    failures: int = 0
    successes: int = 0
    opened_at: datetime | None = None
    reopens_at: datetime | None = None
    updated_at: datetime | None = None


def breaker_views(store, settings: BreakerSettings | None = None,
                  now: datetime | None = None) -> list[BreakerView]:
    """Every breaker, one per failure class, recorded or not (a class that never failed is closed)."""
    settings = settings or BreakerSettings.from_env()
    records = {r.name: r for r in store.list_breakers()}
    views = []
    for name in sorted(BREAKER_NAMES):
        record = records.get(name)
        state, reopens = state_of(record, settings, now)
        views.append(BreakerView(
            name=name, state=state, reopens_at=reopens,
            failures=record.fail_counter if record else 0,
            successes=record.success_counter if record else 0,
            opened_at=record.opened_at if record else None,
            updated_at=record.updated_at if record else None,
        ))
    return views
