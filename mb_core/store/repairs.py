"""The store's healing records: repair attempts, run budgets, circuit breakers and chaos events.

A mixin of `Store` (same engine, same transactions), kept apart so each file stays about one thing.
Closing an attempt charges its running time to the build's budget in the same transaction, and only
once: a second close of the same attempt (a driver and the reconciler both noticing it) is a no-op.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from mb_core.errors import InvalidState, MBError
from mb_core.models import (
    AttemptOutcome,
    BreakerRecord,
    BreakerState,
    ChaosEvent,
    FailureClass,
    RepairAttempt,
    RepairPhase,
    RunBudget,
)
from mb_core.store.tables import builds, chaos_events, circuit_breakers, repair_attempts, run_budgets


class UnknownBreaker(MBError):
    """No circuit breaker has this name."""


def _seconds(started: datetime, finished: datetime) -> float:
    return round(max(0.0, (finished - started).total_seconds()), 6)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class HealingRecords:
    """Mixed into `Store`: uses its `_writing`, `_reading`, `_now` and `_require_build`."""

    # -----------------------------------------------------------------------------------------
    # Repair attempts
    # -----------------------------------------------------------------------------------------

    def start_attempt(self, build_id: str, phase: RepairPhase | str, reason: str = "") -> RepairAttempt:
        """Open the record of the build's current attempt (its `attempt` number) in `phase`."""
        phase = RepairPhase(phase)
        with self._writing() as conn:
            self._require_build(conn, build_id, lock=True)
            attempt = conn.execute(select(builds.c.attempt).where(builds.c.id == build_id)).scalar_one()
            found = conn.execute(
                select(repair_attempts.c.id).where(repair_attempts.c.build_id == build_id,
                                                   repair_attempts.c.attempt == attempt)
            ).first()
            if found is not None:
                raise InvalidState(f"build {build_id} already has a record of attempt {attempt}")
            record = RepairAttempt(build_id=build_id, attempt=attempt, phase=phase, reason=reason,
                                   started_at=self._now())
            values = record.model_dump(mode="python")
            values.update(phase=phase.value, outcome=record.outcome.value, failure_class=None)
            conn.execute(insert(repair_attempts).values(**values))
            return record

    def finish_attempt(
        self,
        build_id: str,
        attempt: int,
        outcome: AttemptOutcome | str,
        *,
        failure_class: FailureClass | str | None = None,
        cost_usd: float = 0.0,
        tokens: int = 0,
        ended_at: datetime | None = None,
    ) -> tuple[RepairAttempt, bool]:
        """Close an attempt and charge its running time to the run budget. Returns the record and
        whether this call closed it (False: it was closed already, nothing charged again).
        `ended_at`: when the attempt really ended, if before now (a lost worker's last sign of
        life); it is charged up to there, never before its start nor after now."""
        outcome = AttemptOutcome(outcome)
        if outcome is AttemptOutcome.running:
            raise InvalidState("an attempt finishes as succeeded or failed, not running")
        fclass = None if failure_class is None else FailureClass(failure_class)
        with self._writing() as conn:
            self._require_build(conn, build_id, lock=True)
            row = conn.execute(
                select(repair_attempts).where(repair_attempts.c.build_id == build_id,
                                              repair_attempts.c.attempt == attempt)
            ).mappings().first()
            if row is None:
                raise InvalidState(f"build {build_id} has no record of attempt {attempt}")
            closed_now = False
            if row["outcome"] == AttemptOutcome.running.value:
                now = self._now()
                if ended_at is not None:
                    now = min(now, max(_as_utc(row["started_at"]), _as_utc(ended_at)))
                seconds = _seconds(row["started_at"], now)
                closed_now = conn.execute(
                    update(repair_attempts)
                    .where(repair_attempts.c.id == row["id"],
                           repair_attempts.c.outcome == AttemptOutcome.running.value)
                    .values(outcome=outcome.value, failure_class=fclass.value if fclass else None,
                            finished_at=now, seconds=seconds, cost_usd=float(cost_usd), tokens=int(tokens))
                ).rowcount == 1
                if closed_now:
                    conn.execute(
                        update(run_budgets).where(run_budgets.c.build_id == build_id).values(
                            running_seconds=run_budgets.c.running_seconds + seconds,
                            attempts_used=run_budgets.c.attempts_used + 1,
                        )
                    )
            found = conn.execute(select(repair_attempts).where(repair_attempts.c.id == row["id"])).mappings().one()
            return _attempt(found), closed_now

    def list_attempts(self, build_id: str) -> list[RepairAttempt]:
        with self._reading() as conn:
            self._require_build(conn, build_id)
            rows = conn.execute(
                select(repair_attempts).where(repair_attempts.c.build_id == build_id)
                .order_by(repair_attempts.c.attempt)
            ).mappings()
            return [_attempt(row) for row in rows]

    # -----------------------------------------------------------------------------------------
    # Run budgets
    # -----------------------------------------------------------------------------------------

    def put_budget(self, budget: RunBudget) -> RunBudget:
        """Set the build's budget limits (kept usage stays as counted)."""
        limits = budget.model_dump(include={"max_attempts", "max_tokens", "max_seconds", "max_cost_usd"})
        with self._writing() as conn:
            self._require_build(conn, budget.build_id, lock=True)
            moved = conn.execute(
                update(run_budgets).where(run_budgets.c.build_id == budget.build_id).values(**limits)
            ).rowcount
            if moved == 0:
                conn.execute(insert(run_budgets).values(**budget.model_dump()))
            return self._budget(conn, budget.build_id)  # type: ignore[return-value]

    def get_budget(self, build_id: str) -> RunBudget | None:
        with self._reading() as conn:
            self._require_build(conn, build_id)
            return self._budget(conn, build_id)

    @staticmethod
    def _budget(conn, build_id: str) -> RunBudget | None:
        row = conn.execute(select(run_budgets).where(run_budgets.c.build_id == build_id)).mappings().first()
        return None if row is None else RunBudget.model_validate(dict(row))

    # -----------------------------------------------------------------------------------------
    # Circuit breakers
    # -----------------------------------------------------------------------------------------

    def get_breaker(self, name: str) -> BreakerRecord | None:
        with self._reading() as conn:
            return self._breaker(conn, name)

    @staticmethod
    def _breaker(conn, name: str) -> BreakerRecord | None:
        row = conn.execute(select(circuit_breakers).where(circuit_breakers.c.name == name)).mappings().first()
        return None if row is None else BreakerRecord.model_validate(dict(row))

    def update_breaker(self, name: str, **changes: Any) -> BreakerRecord:
        """Change some fields of a breaker's record (created closed on first use). `fail_counter`
        and `success_counter` may be given as +1 (`increment=...`) so concurrent processes add up."""
        increments = changes.pop("increment", {})
        if "state" in changes:
            changes["state"] = BreakerState(changes["state"]).value
        with self._writing() as conn:
            if self._breaker_locked(conn, name) is None:
                conn.execute(insert(circuit_breakers).values(
                    name=name, state=BreakerState.closed.value, fail_counter=0, success_counter=0,
                    opened_at=None, updated_at=self._now()))
            values = dict(changes, updated_at=self._now())
            for column, by in increments.items():
                values[column] = getattr(circuit_breakers.c, column) + by
            conn.execute(update(circuit_breakers).where(circuit_breakers.c.name == name).values(**values))
            return self._breaker(conn, name)  # type: ignore[return-value]

    @staticmethod
    def _breaker_locked(conn, name: str):
        return conn.execute(
            select(circuit_breakers.c.name).where(circuit_breakers.c.name == name).with_for_update()
        ).first()

    def list_breakers(self) -> list[BreakerRecord]:
        with self._reading() as conn:
            rows = conn.execute(select(circuit_breakers).order_by(circuit_breakers.c.name)).mappings()
            return [BreakerRecord.model_validate(dict(row)) for row in rows]

    def reset_breaker(self, name: str, known: frozenset[str] | None = None) -> BreakerRecord:
        """Close a breaker and zero its counters. A name that is not a breaker (not in `known`, or
        never recorded) is an `UnknownBreaker`, and nothing changes."""
        with self._writing() as conn:
            exists = self._breaker_locked(conn, name) is not None
            if not exists and (known is None or name not in known):
                choices = ", ".join(sorted(known)) if known else "none recorded"
                raise UnknownBreaker(f"no circuit breaker named {name!r} (breakers: {choices})")
            if not exists:
                conn.execute(insert(circuit_breakers).values(
                    name=name, state=BreakerState.closed.value, fail_counter=0, success_counter=0,
                    opened_at=None, updated_at=self._now()))
            conn.execute(update(circuit_breakers).where(circuit_breakers.c.name == name).values(
                state=BreakerState.closed.value, fail_counter=0, success_counter=0, opened_at=None,
                updated_at=self._now()))
            return self._breaker(conn, name)  # type: ignore[return-value]

    # -----------------------------------------------------------------------------------------
    # Chaos events
    # -----------------------------------------------------------------------------------------

    def record_chaos_event(self, build_id: str | None, attempt: int, seam: str, fault: str,
                           seed: int) -> ChaosEvent:
        event = ChaosEvent(build_id=build_id, attempt=attempt, seam=seam, fault=fault, seed=seed,
                           created_at=self._now())
        with self._writing() as conn:
            values = event.model_dump(exclude={"id"})
            new_id = conn.execute(insert(chaos_events).values(**values).returning(chaos_events.c.id)).scalar_one()
            return event.model_copy(update={"id": new_id})

    def resolve_chaos_events(self, build_id: str, recovered: bool, recovery: str) -> int:
        """Say how the build's open chaos events ended; returns how many it closed."""
        with self._writing() as conn:
            return conn.execute(
                update(chaos_events)
                .where(chaos_events.c.build_id == build_id, chaos_events.c.recovered.is_(None))
                .values(recovered=recovered, recovery=recovery)
            ).rowcount

    def resolve_chaos_event(self, event_id: int, recovered: bool, recovery: str) -> int:
        """Say how one open chaos event ended (1), or nothing when it was closed already (0)."""
        with self._writing() as conn:
            return conn.execute(
                update(chaos_events)
                .where(chaos_events.c.id == event_id, chaos_events.c.recovered.is_(None))
                .values(recovered=recovered, recovery=recovery)
            ).rowcount

    def list_chaos_events(self, build_id: str | None = None) -> list[ChaosEvent]:
        query = select(chaos_events).order_by(chaos_events.c.id)
        if build_id is not None:
            query = query.where(chaos_events.c.build_id == build_id)
        with self._reading() as conn:
            return [ChaosEvent.model_validate(dict(row)) for row in conn.execute(query).mappings()]

    def chaos_stats(self) -> dict[str, Any]:
        """Per seam and fault: injected, recovered, not recovered, still open."""
        table: dict[tuple[str, str], Counter] = {}
        for event in self.list_chaos_events():
            counts = table.setdefault((event.seam, event.fault), Counter())
            counts["injected"] += 1
            counts["open" if event.recovered is None else
                   "recovered" if event.recovered else "not_recovered"] += 1
        return {
            f"{seam}/{fault}": {k: counts.get(k, 0) for k in ("injected", "recovered", "not_recovered", "open")}
            for (seam, fault), counts in sorted(table.items())
        }

    def _delete_healing_rows(self, conn, build_id: str) -> None:
        for table in (repair_attempts, run_budgets):
            conn.execute(delete(table).where(table.c.build_id == build_id))


def _attempt(row) -> RepairAttempt:
    return RepairAttempt.model_validate({k: v for k, v in dict(row).items() if k != "id"})
