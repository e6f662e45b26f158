"""The model each attempt of a build was given (mb_core.scheduling.model_choice), kept so that
every step of the attempt, in whichever process, calls the same model, and so that the choice and
its reason show in the build's trace."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from mb_core.scheduling.model_choice import ModelChoice
from mb_core.store.tables import ID_LENGTH, NAME_LENGTH, UTCDateTime, metadata

model_choices = Table(
    "model_choices",
    metadata,
    Column("build_id", String(ID_LENGTH), ForeignKey("builds.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("provider", String(NAME_LENGTH), nullable=False),
    Column("model", String(NAME_LENGTH), nullable=False),
    Column("estimated_cost_usd", Float, nullable=False),
    Column("budget_left_usd", Float, nullable=True),
    Column("reason", Text, nullable=False),
    Column("chosen_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("build_id", "attempt", name="pk_model_choices"),
)


class RecordedChoice(ModelChoice):
    attempt: int
    provider: str
    budget_left_usd: float | None = None


def _recorded(row) -> RecordedChoice:
    return RecordedChoice(model=row["model"], estimated_cost_usd=row["estimated_cost_usd"],
                          reason=row["reason"], attempt=row["attempt"], provider=row["provider"],
                          budget_left_usd=row["budget_left_usd"])


def get_model_choice(store, build_id: str, attempt: int) -> RecordedChoice | None:
    with store._reading() as conn:
        row = conn.execute(select(model_choices).where(
            model_choices.c.build_id == build_id, model_choices.c.attempt == attempt)).mappings().first()
    return None if row is None else _recorded(row)


def keep_model_choice(store, build_id: str, attempt: int, provider: str, choice: ModelChoice,
                      budget_left_usd: float | None) -> RecordedChoice:
    """The attempt's choice; the first one kept wins (two steps choosing at once agree on it)."""
    try:
        with store._writing() as conn:
            store._require_build(conn, build_id)
            conn.execute(insert(model_choices).values(
                build_id=build_id, attempt=attempt, provider=provider, model=choice.model,
                estimated_cost_usd=choice.estimated_cost_usd, budget_left_usd=budget_left_usd,
                reason=choice.reason, chosen_at=store._now()))
    except IntegrityError:
        pass
    return get_model_choice(store, build_id, attempt)  # type: ignore[return-value]


def list_model_choices(store, build_id: str) -> list[RecordedChoice]:
    with store._reading() as conn:
        rows = conn.execute(select(model_choices).where(model_choices.c.build_id == build_id)
                            .order_by(model_choices.c.attempt)).mappings().all()
    return [_recorded(row) for row in rows]
