"""The store: builds, their steps, approval gates and recorded LLM exchanges, on SQLite or PostgreSQL.

Pydantic domain models go in and come out; rows never leave this module. Every state change that two
drivers could race on (a sensor and the CLI claiming a build, two reviewers deciding a gate) is one
conditional UPDATE, so exactly one of them wins on either backend.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from mb_core import chaos
from mb_core.errors import InvalidState, MBError, UnknownBuild
from mb_core.lifecycle import (
    INITIAL_STATUSES,
    NEW_ATTEMPT_EVENTS,
    BuildEvent,
    IllegalTransition,
    allowed_from,
    event_for,
    next_status,
)
from mb_core.models import (
    ApprovalDecision,
    ApprovalGate,
    BuildRun,
    BuildStatus,
    BuildStep,
    FailureClass,
    StepStatus,
    utcnow,
)
from mb_core.store.repairs import HealingRecords
from mb_core.store.tables import ID_LENGTH, NAME_LENGTH, approvals, build_steps, builds, exchanges
from mb_core.store.versioning import VERSION_TABLE, adopt_legacy_revision

if TYPE_CHECKING:
    from mb_core.agents.base import AgentReply, AgentRequest

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Build ids become Dagster partition keys, folder names and git branch names: keep them plain.
_CONNECT_TRIES = 3  # a write's connection: opened at most this many times

BUILD_ID_PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{ID_LENGTH - 1}}}$")

# Any fixed number: PostgreSQL sessions migrating the same database queue on it.
_MIGRATION_LOCK_KEY = 0x6D62_5F73_746F_7265  # "mb_store"

_SQLITE_BUSY_TIMEOUT_MS = 30_000


class StoreUnavailable(MBError):
    """The store cannot be opened or reached (bad URL, unsupported database, server down, locked)."""


class InvalidRecord(MBError):
    """A value the store will not keep as given (malformed id, unknown status, negative usage...)."""


class ExchangeRecord(BaseModel):
    """One LLM request and its reply, as recorded for replay and metering."""

    model_config = ConfigDict(extra="forbid")

    build_id: str
    seq: int  # 1, 2, 3... in the order the build made its calls
    role: str
    request_key: str
    request_json: str
    reply_json: str
    usage_prompt: int
    usage_completion: int
    cost_usd: float
    latency_s: float
    provider: str
    model: str
    created_at: datetime

    @property
    def request(self) -> Any:
        return json.loads(self.request_json)

    @property
    def reply(self) -> Any:
        return json.loads(self.reply_json)


def new_build_id(now: datetime | None = None) -> str:
    """`b20250314-093015-7f3a2c91`: sorts by creation time (to the second), readable, typeable;
    32 random bits make two ids of the same second collide about once in 4 billion pairs, and the
    store refuses a duplicate rather than overwrite."""
    moment = _as_utc(now or utcnow())
    return f"b{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stamp(value: datetime | None) -> str:
    return _as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ") if value else "an unknown time"


def _enum(kind: type, value: Any, what: str):
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidRecord(f"unknown {what} {value!r} (one of: {choices})") from None


def _name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > NAME_LENGTH:
        raise InvalidRecord(f"{what} must be a non-empty text of at most {NAME_LENGTH} characters")
    return value


def _json_text(value: str | Mapping[str, Any] | list | BaseModel, what: str) -> str:
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            raise InvalidRecord(f"{what} of an exchange must be JSON text") from None
        return value
    return json.dumps(value, sort_keys=True)


def _engine_for(url: str) -> Engine:
    """The engine for a store URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreUnavailable(f"not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        # SQLAlchemy 2.1 picks psycopg 3 for plain postgresql://; psycopg2 is what is installed.
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg2")
        # A server that never answers (a wrong host) is an error after a while, not a hang.
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
        try:
            return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
        except NoSuchModuleError:
            raise StoreUnavailable(f"no PostgreSQL driver named {parsed.drivername!r}") from None
    if backend != "sqlite":
        raise StoreUnavailable(f"the store runs on sqlite or postgresql, not {backend}")

    database = parsed.database
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    if in_memory:
        # One shared connection, or every checkout would see a different empty database.
        engine = create_engine(parsed, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000},
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # SQLAlchemy, not the sqlite3 module, decides when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            # Readers (webserver, API) keep reading while one writer writes.
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writing transaction takes the write lock up front: two writers that both read first and
        # then upgrade would deadlock (SQLITE_BUSY without waiting); this way the second one waits.
        immediate = conn.get_execution_options().get("mb_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Store(HealingRecords):
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow):
        self.engine = engine
        self._clock = clock

    @classmethod
    def from_url(cls, url: str, *, clock: Callable[[], datetime] = utcnow) -> Store:
        """Open the store at a SQLAlchemy URL (sqlite:///path creates the folder; postgresql:// uses
        psycopg2). Opening connects to nothing yet: `migrate()` is the first call that does."""
        return cls(_engine_for(url), clock=clock)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self.dispose()

    # -----------------------------------------------------------------------------------------
    # Schema
    # -----------------------------------------------------------------------------------------

    def alembic_config(self, connection: Connection | None = None) -> Config:
        """An Alembic config pointing at the packaged migrations, from any working directory."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        # configparser reads % as interpolation.
        config.set_main_option(
            "sqlalchemy.url", self.engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
        if connection is not None:
            config.attributes["connection"] = connection
        return config

    def migrate(self) -> None:
        """Bring the schema to the newest revision. Idempotent; safe when several processes start at
        once (SQLite: the write lock of one transaction; PostgreSQL: an advisory lock)."""
        self._alembic(lambda config: command.upgrade(config, "head"))

    def downgrade(self, revision: str = "base") -> None:
        self._alembic(lambda config: command.downgrade(config, revision))

    def current_revision(self) -> str | None:
        with self._reading() as conn:
            return MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE}).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def _alembic(self, run: Callable[[Config], None]) -> None:
        with self._writing() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
            config = self.alembic_config(conn)
            script = ScriptDirectory.from_config(config)
            adopt_legacy_revision(conn, {rev.revision for rev in script.walk_revisions()})
            run(config)

    # -----------------------------------------------------------------------------------------
    # Transactions
    # -----------------------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except OperationalError as exc:
            raise self._unavailable(exc) from exc

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        try:
            with self._connect_for_write() as conn:
                conn.execution_options(mb_write=True)
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise self._unavailable(exc) from exc

    def _connect_for_write(self) -> Connection:
        """A connection for one write; a connection that fails to open (reset, refused for a
        moment) is tried again twice before the store is called unavailable. Nothing is written
        before the connection opens, so trying again cannot write twice."""
        for n in range(_CONNECT_TRIES):
            try:
                if chaos.inject("store"):  # the chaos seam: a transient connection error
                    raise OperationalError("connect", None, ConnectionResetError(
                        "connection reset by peer (injected fault)"))
                return self.engine.connect()
            except OperationalError:
                if n == _CONNECT_TRIES - 1:
                    raise
                time.sleep(0.05 * 4**n)
        raise AssertionError("unreachable")

    def _unavailable(self, exc: OperationalError) -> StoreUnavailable:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        return StoreUnavailable(f"the store at {self.url} is unavailable: {reason}")

    def _now(self) -> datetime:
        return _as_utc(self._clock())

    @staticmethod
    def _require_build(conn: Connection, build_id: str, *, lock: bool = False) -> None:
        query = select(builds.c.id).where(builds.c.id == build_id)
        if lock:
            query = query.with_for_update()  # PostgreSQL only; SQLite already holds the write lock
        if conn.execute(query).first() is None:
            raise UnknownBuild(f"no build named {build_id}")

    # -----------------------------------------------------------------------------------------
    # Builds
    # -----------------------------------------------------------------------------------------

    def create_build(self, run: BuildRun) -> BuildRun:
        if not BUILD_ID_PATTERN.match(run.id):
            raise InvalidRecord(
                f"build id {run.id!r} is not valid: use letters, digits, '.', '_' or '-' "
                f"(at most {ID_LENGTH} characters, starting with a letter or digit)"
            )
        _name(run.tenant, "tenant")
        _name(run.provider, "provider")
        if run.status not in INITIAL_STATUSES:
            raise IllegalTransition(
                f"a build starts as {' or '.join(sorted(s.value for s in INITIAL_STATUSES))}, "
                f"not {run.status.value}"
            )
        if run.attempt != 1:
            raise InvalidRecord(f"a new build is at attempt 1, not {run.attempt}")
        if run.risk_score is not None:
            self._check_risk(run.risk_score)
        values = run.model_dump(mode="python")
        values["mode"] = run.mode.value
        values["status"] = run.status.value
        values["failure_class"] = run.failure_class.value if run.failure_class else None
        try:
            with self._writing() as conn:
                if conn.execute(select(builds.c.id).where(builds.c.id == run.id)).first():
                    raise InvalidState(f"a build named {run.id} already exists")
                conn.execute(insert(builds).values(**values))
                return self._get_build(conn, run.id)
        except IntegrityError:
            # Two creators raced past the check; the loser's transaction was rolled back.
            raise InvalidState(f"a build named {run.id} already exists") from None

    def get_build(self, build_id: str) -> BuildRun:
        with self._reading() as conn:
            return self._get_build(conn, build_id)

    @staticmethod
    def _get_build(conn: Connection, build_id: str) -> BuildRun:
        row = conn.execute(select(builds).where(builds.c.id == build_id)).mappings().first()
        if row is None:
            raise UnknownBuild(f"no build named {build_id}")
        return BuildRun.model_validate(dict(row))

    def list_builds(
        self,
        limit: int = 50,
        status: BuildStatus | str | Collection[BuildStatus | str] | None = None,
        tenant: str | None = None,
    ) -> list[BuildRun]:
        """Newest first."""
        if limit < 1:
            return []
        query = select(builds).order_by(builds.c.created_at.desc(), builds.c.id.desc()).limit(limit)
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            query = query.where(
                builds.c.status.in_([_enum(BuildStatus, s, "build status").value for s in wanted])
            )
        if tenant is not None:
            query = query.where(builds.c.tenant == tenant)
        with self._reading() as conn:
            return [BuildRun.model_validate(dict(row)) for row in conn.execute(query).mappings()]

    def find_build_ids(self, prefix: str, limit: int = 10) -> list[str]:
        """Ids that start with `prefix`, or whose random tail does (`mb status 7f3a`), newest first."""
        if not prefix:
            return []
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (select(builds.c.id)
                 .where(builds.c.id.like(f"{escaped}%", escape="\\")
                        | builds.c.id.like(f"b%-%-{escaped}%", escape="\\"))
                 .order_by(builds.c.created_at.desc(), builds.c.id.desc()).limit(limit))
        with self._reading() as conn:
            return [row[0] for row in conn.execute(query)]

    def delete_build(self, build_id: str) -> None:
        """Remove a build and everything recorded for it (steps, gate, exchanges)."""
        with self._writing() as conn:
            self._require_build(conn, build_id, lock=True)
            self._delete_healing_rows(conn, build_id)
            for table in (exchanges, approvals, build_steps):
                conn.execute(delete(table).where(table.c.build_id == build_id))
            conn.execute(delete(builds).where(builds.c.id == build_id))

    def transition(
        self,
        build_id: str,
        event: BuildEvent | str,
        *,
        error: str | None = None,
        failure_class: FailureClass | str | None = None,
        expected: Collection[BuildStatus | str] | None = None,
    ) -> bool:
        """Apply a lifecycle event (mb_core.lifecycle.TRANSITIONS). An event the build's status does
        not allow is an `IllegalTransition`; with `expected` (compare and set), a build found in
        another status is a lost race instead: nothing moves and the answer is False. `error=None`
        keeps the recorded error, `""` clears it; `failure_class=None` keeps the recorded one."""
        event = _enum(BuildEvent, event, "lifecycle event")
        sources = allowed_from(event)
        if expected is not None:
            wanted = {_enum(BuildStatus, s, "build status") for s in expected}
            for status in sorted(wanted - sources, key=lambda s: s.value):
                next_status(status, event)  # raises: the caller asked for a move the table forbids
            sources = frozenset(wanted)
        fclass = None if failure_class is None else _enum(FailureClass, failure_class, "failure class")
        with self._writing() as conn:
            current = self._current_status(conn, build_id)
            if current not in sources:
                if expected is not None:
                    return False
                next_status(current, event)  # raises with the reason
            return self._move(conn, build_id, current, event, error, fclass)

    def set_status(
        self,
        build_id: str,
        status: BuildStatus | str,
        *,
        error: str | None = None,
        failure_class: FailureClass | str | None = None,
        expected: Collection[BuildStatus | str] | None = None,
    ) -> bool:
        """Move a build to `status` by the lifecycle event that leads there from its status (see
        `transition`); with `expected`, only from one of those statuses. Returns whether it moved."""
        target = _enum(BuildStatus, status, "build status")
        if expected is not None:
            for source in expected:
                event_for(_enum(BuildStatus, source, "build status"), target)  # raises if forbidden
        fclass = None if failure_class is None else _enum(FailureClass, failure_class, "failure class")
        with self._writing() as conn:
            current = self._current_status(conn, build_id)
            if expected is not None and current not in {BuildStatus(s) for s in expected}:
                return False
            return self._move(conn, build_id, current, event_for(current, target), error, fclass)

    @staticmethod
    def _current_status(conn: Connection, build_id: str) -> BuildStatus:
        # Locked (PostgreSQL; SQLite holds the write lock already): the status read is the one moved.
        row = conn.execute(
            select(builds.c.status).where(builds.c.id == build_id).with_for_update()
        ).first()
        if row is None:
            raise UnknownBuild(f"no build named {build_id}")
        return BuildStatus(row.status)

    def _move(self, conn: Connection, build_id: str, current: BuildStatus, event: BuildEvent,
              error: str | None, failure_class: FailureClass | None) -> bool:
        values: dict[str, Any] = {"status": next_status(current, event).value, "updated_at": self._now()}
        if error is not None:
            values["error"] = error or None
        if failure_class is not None:
            values["failure_class"] = failure_class.value
        if event in NEW_ATTEMPT_EVENTS:
            values["attempt"] = builds.c.attempt + 1
        if event is BuildEvent.rerun:
            values["failure_class"] = None
        moved = conn.execute(
            update(builds).where(builds.c.id == build_id, builds.c.status == current.value).values(**values)
        ).rowcount
        return moved == 1

    def set_risk(self, build_id: str, score: int) -> None:
        self._check_risk(score)
        with self._writing() as conn:
            result = conn.execute(
                update(builds).where(builds.c.id == build_id).values(risk_score=score, updated_at=self._now())
            )
            if result.rowcount != 1:
                raise UnknownBuild(f"no build named {build_id}")

    @staticmethod
    def _check_risk(score: int) -> None:
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
            raise InvalidRecord(f"a risk score is a whole number from 0 to 100, not {score!r}")

    # -----------------------------------------------------------------------------------------
    # Steps
    # -----------------------------------------------------------------------------------------

    _STEP_COLUMNS = (
        build_steps.c.build_id,
        build_steps.c.name,
        build_steps.c.status,
        build_steps.c.started_at,
        build_steps.c.finished_at,
        build_steps.c.seconds,
        build_steps.c.detail,
        build_steps.c.attempt,
        build_steps.c.failure_class,
    )

    def start_step(self, build_id: str, name: str) -> BuildStep:
        """Record a step as running. A step of the same name still marked running (its worker was
        lost, or the step is being re-run) is closed as failed first, so one name runs once."""
        _name(name, "a step name")
        with self._writing() as conn:
            self._require_build(conn, build_id, lock=True)
            attempt = conn.execute(select(builds.c.attempt).where(builds.c.id == build_id)).scalar_one()
            now = self._now()
            stale = conn.execute(
                select(build_steps.c.id, build_steps.c.started_at).where(
                    build_steps.c.build_id == build_id,
                    build_steps.c.name == name,
                    build_steps.c.status == StepStatus.running.value,
                )
            ).all()
            for step_id, started_at in stale:
                conn.execute(
                    update(build_steps)
                    .where(build_steps.c.id == step_id)
                    .values(
                        status=StepStatus.failed.value,
                        finished_at=now,
                        seconds=_seconds(started_at, now),
                        detail="superseded: the step was started again",
                    )
                )
            step = BuildStep(build_id=build_id, name=name, status=StepStatus.running, started_at=now,
                             attempt=attempt)
            conn.execute(
                insert(build_steps).values(
                    build_id=build_id,
                    name=name,
                    status=step.status.value,
                    started_at=now,
                    detail="",
                    attempt=attempt,
                )
            )
            return step

    def finish_step(self, build_id: str, name: str, status: StepStatus | str, detail: str = "",
                    failure_class: FailureClass | str | None = None) -> BuildStep:
        """Close the running step `name`. A failed step says why in `failure_class` (None: the
        failure is not one the healing ladder knows, e.g. a cancelled build)."""
        outcome = _enum(StepStatus, status, "step status")
        if outcome is StepStatus.running:
            raise InvalidRecord("a step finishes as succeeded or failed, not running")
        fclass = None if failure_class is None else _enum(FailureClass, failure_class, "failure class")
        if fclass is not None and outcome is not StepStatus.failed:
            raise InvalidRecord("only a failed step has a failure class")
        with self._writing() as conn:
            self._require_build(conn, build_id, lock=True)
            row = conn.execute(
                select(build_steps.c.id, build_steps.c.started_at)
                .where(
                    build_steps.c.build_id == build_id,
                    build_steps.c.name == name,
                    build_steps.c.status == StepStatus.running.value,
                )
                .order_by(build_steps.c.id.desc())
                .limit(1)
            ).first()
            if row is None:
                raise InvalidState(f"build {build_id} has no running step named {name}")
            now = self._now()
            conn.execute(
                update(build_steps)
                .where(build_steps.c.id == row.id)
                .values(
                    status=outcome.value,
                    finished_at=now,
                    seconds=_seconds(row.started_at, now),
                    detail=detail,
                    failure_class=fclass.value if fclass else None,
                )
            )
            found = (
                conn.execute(select(*self._STEP_COLUMNS).where(build_steps.c.id == row.id)).mappings().one()
            )
            return BuildStep.model_validate(dict(found))

    def list_steps(self, build_id: str) -> list[BuildStep]:
        """In the order they started."""
        with self._reading() as conn:
            self._require_build(conn, build_id)
            rows = conn.execute(
                select(*self._STEP_COLUMNS)
                .where(build_steps.c.build_id == build_id)
                .order_by(build_steps.c.started_at, build_steps.c.id)
            ).mappings()
            return [BuildStep.model_validate(dict(row)) for row in rows]

    # -----------------------------------------------------------------------------------------
    # Approval gates
    # -----------------------------------------------------------------------------------------

    def put_gate(self, gate: ApprovalGate) -> ApprovalGate:
        """Record the build's gate, replacing the one it had."""
        values = gate.model_dump(mode="python")
        values["decision"] = gate.decision.value
        if gate.decision is not ApprovalDecision.pending and values["decided_at"] is None:
            values["decided_at"] = self._now()  # an auto-approval is decided now, by the gate
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(approvals).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[approvals.c.build_id],
            set_={key: statement.excluded[key] for key in values if key != "build_id"},
        )
        with self._writing() as conn:
            self._require_build(conn, gate.build_id, lock=True)
            conn.execute(statement)
            return self._get_gate(conn, gate.build_id)  # type: ignore[return-value]

    def get_gate(self, build_id: str) -> ApprovalGate | None:
        with self._reading() as conn:
            gate = self._get_gate(conn, build_id)
            if gate is None:
                self._require_build(conn, build_id)
            return gate

    @staticmethod
    def _get_gate(conn: Connection, build_id: str) -> ApprovalGate | None:
        row = conn.execute(select(approvals).where(approvals.c.build_id == build_id)).mappings().first()
        return None if row is None else ApprovalGate.model_validate(dict(row))

    def decide(self, build_id: str, approve: bool, by: str, reason: str = "") -> ApprovalGate:
        """Approve or reject a pending gate. Only the first decision counts."""
        _name(by, "the name of who decides")
        decision = ApprovalDecision.approved if approve else ApprovalDecision.rejected
        with self._writing() as conn:
            moved = conn.execute(
                update(approvals)
                .where(
                    approvals.c.build_id == build_id,
                    approvals.c.decision == ApprovalDecision.pending.value,
                )
                .values(decision=decision.value, decided_by=by, decided_at=self._now(), reason=reason)
            ).rowcount
            gate = self._get_gate(conn, build_id)
            if moved == 1 and gate is not None:
                return gate
            if gate is None:
                self._require_build(conn, build_id)
                raise InvalidState(f"build {build_id} is not waiting for approval")
            if gate.decision is ApprovalDecision.auto_approved:
                raise InvalidState(
                    f"build {build_id} was already auto-approved at {_stamp(gate.decided_at)} "
                    f"(risk {gate.risk_score} below threshold {gate.threshold})"
                )
            raise InvalidState(
                f"build {build_id} was already {gate.decision.value} by "
                f"{gate.decided_by or 'an unknown reviewer'} at {_stamp(gate.decided_at)}"
            )

    # -----------------------------------------------------------------------------------------
    # LLM exchanges
    # -----------------------------------------------------------------------------------------

    def record_exchange(
        self,
        build_id: str,
        role: str,
        request_key: str,
        request_json: str | Mapping[str, Any] | BaseModel,
        reply_json: str | Mapping[str, Any] | BaseModel,
        usage_prompt: int,
        usage_completion: int,
        cost_usd: float,
        latency_s: float,
        provider: str,
        model: str,
    ) -> ExchangeRecord:
        """Append one request/reply to the build's record; `seq` numbers them in call order."""
        _name(role, "an exchange role")
        _name(request_key, "a request key")
        _name(provider, "a provider name")
        _name(model, "a model name")
        for label, number in (
            ("usage_prompt", usage_prompt),
            ("usage_completion", usage_completion),
            ("cost_usd", cost_usd),
            ("latency_s", latency_s),
        ):
            if isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0:
                raise InvalidRecord(f"{label} of an exchange must be a number >= 0, not {number!r}")
        values = {
            "build_id": build_id,
            "role": role,
            "request_key": request_key,
            "request_json": _json_text(request_json, "request_json"),
            "reply_json": _json_text(reply_json, "reply_json"),
            "usage_prompt": int(usage_prompt),
            "usage_completion": int(usage_completion),
            "cost_usd": float(cost_usd),
            "latency_s": float(latency_s),
            "provider": provider,
            "model": model,
        }
        with self._writing() as conn:
            # The build row's lock orders concurrent recorders of one build on PostgreSQL.
            self._require_build(conn, build_id, lock=True)
            last = conn.execute(
                select(func.max(exchanges.c.seq)).where(exchanges.c.build_id == build_id)
            ).scalar()
            record = ExchangeRecord(seq=(last or 0) + 1, created_at=self._now(), **values)
            conn.execute(insert(exchanges).values(**record.model_dump()))
            return record

    def exchange_recorder(self, build_id: str) -> Callable[[AgentRequest, AgentReply], None]:
        """A recorder for `AgentContext.recorders` that keeps every call of one build."""

        def record(request: AgentRequest, reply: AgentReply) -> None:
            self.record_exchange(
                build_id,
                role=request.role.value,
                request_key=request.key,
                request_json=request.canonical_json(),
                reply_json=reply.model_dump_json(),
                usage_prompt=reply.usage.prompt_tokens,
                usage_completion=reply.usage.completion_tokens,
                cost_usd=reply.cost_usd,
                latency_s=reply.latency_s,
                provider=reply.provider,
                model=reply.model,
            )

        return record

    def list_exchanges(self, build_id: str) -> list[ExchangeRecord]:
        with self._reading() as conn:
            self._require_build(conn, build_id)
            rows = conn.execute(
                select(*(c for c in exchanges.c if c.name != "id"))
                .where(exchanges.c.build_id == build_id)
                .order_by(exchanges.c.seq)
            ).mappings()
            return [ExchangeRecord.model_validate(dict(row)) for row in rows]

    def usage_totals(self, build_id: str | None = None, tenant: str | None = None) -> dict[str, Any]:
        """Tokens and cost per agent role and in total, for one build, one tenant, or everything:
        `{"roles": {role: {calls, prompt_tokens, completion_tokens, total_tokens, cost_usd}},
        "total": {...}}`."""
        query = (
            select(
                exchanges.c.role,
                func.count().label("calls"),
                func.coalesce(func.sum(exchanges.c.usage_prompt), 0).label("prompt_tokens"),
                func.coalesce(func.sum(exchanges.c.usage_completion), 0).label("completion_tokens"),
                func.coalesce(func.sum(exchanges.c.cost_usd), 0.0).label("cost_usd"),
            )
            .group_by(exchanges.c.role)
            .order_by(exchanges.c.role)
        )
        if build_id is not None:
            query = query.where(exchanges.c.build_id == build_id)
        if tenant is not None:
            query = query.join(builds, builds.c.id == exchanges.c.build_id).where(builds.c.tenant == tenant)
        with self._reading() as conn:
            if build_id is not None:
                self._require_build(conn, build_id)
            rows = conn.execute(query).all()
        roles = {
            row.role: _usage(row.calls, row.prompt_tokens, row.completion_tokens, row.cost_usd)
            for row in rows
        }
        total = _usage(
            sum(r["calls"] for r in roles.values()),
            sum(r["prompt_tokens"] for r in roles.values()),
            sum(r["completion_tokens"] for r in roles.values()),
            sum(r["cost_usd"] for r in roles.values()),
        )
        return {"roles": roles, "total": total}


def _usage(calls: Any, prompt: Any, completion: Any, cost: Any) -> dict[str, Any]:
    # PostgreSQL sums integers as numeric (Decimal): hand back plain ints and floats.
    prompt_tokens, completion_tokens = int(prompt), int(completion)
    return {
        "calls": int(calls),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "cost_usd": round(float(cost), 6),
    }


def _seconds(started_at: datetime, finished_at: datetime) -> float:
    return round(max(0.0, (_as_utc(finished_at) - _as_utc(started_at)).total_seconds()), 6)
