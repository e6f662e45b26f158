"""Queries over the platform's tables. Every read and write names its tenant: a row of another
tenant is never found, so callers answer "unknown" (404), never the row."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mb_core.errors import InvalidState, MBError
from mb_core.models import ApprovalGate, BuildRun, BuildStatus, SpecMode
from mb_core.platform.build_flags import (
    BuildFlags,
    build_flags_from,
    platform_defaults,
    tenant_admission,
)
from mb_core.platform.flag_provider import evaluate, register
from mb_core.platform.flags import FLAGS, FlagScope, FlagValue, check_flag_value, resolve
from mb_core.platform.redaction import redact
from mb_core.platform.roles import Role
from mb_core.store.platform_tables import (
    api_keys,
    audit_log,
    build_flags,
    feature_flags,
    principals,
    spec_runs,
    specs,
)
from mb_core.store.store import InvalidRecord, Store, _name
from mb_core.store.tables import approvals, builds, run_budgets

# Builds that hold one of their tenant's workers (META_V4_MAX_WORKERS).
WORKING_STATUSES = (BuildStatus.running.value, BuildStatus.releasing.value)

TOKEN_PREFIX = "mbk_"


class UnknownRecord(MBError):
    """No row of this kind with this id in the caller's tenant."""


class Principal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    tenant: str
    name: str
    role: Role
    created_at: datetime


class ApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    tenant: str
    principal_id: str
    created_at: datetime
    revoked_at: datetime | None = None


class IssuedKey(BaseModel):
    """A new key: `token` is shown this once; the store keeps only its hash."""

    key: ApiKey
    token: str


class SpecRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    tenant: str
    text: str
    mode: SpecMode
    created_by: str
    created_at: datetime
    plan_json: str | None = None
    planned_by: str | None = None
    planned_at: datetime | None = None

    @property
    def plan(self) -> Any:
        return None if self.plan_json is None else json.loads(self.plan_json)


class SpecRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    build_id: str
    spec_id: str
    tenant: str
    submitted_by: str
    created_at: datetime
    promoted_by: str | None = None
    promoted_at: datetime | None = None


class RunView(BaseModel):
    """What a run's document shows from the store, read in one transaction."""

    build: BuildRun
    link: SpecRun | None = None
    gate: ApprovalGate | None = None
    flags: BuildFlags | None = None


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    tenant: str
    actor: str
    action: str
    target_type: str
    target_id: str
    outcome: str
    detail: str
    at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(8)}"


class PlatformStore:
    """The platform's rows, in the same database (and transactions discipline) as the builds."""

    def __init__(self, store: Store):
        self.store = store

    @property
    def flag_domain(self) -> str:
        """The OpenFeature domain whose provider reads this store's flag values (one per store,
        however many PlatformStores a process makes over it)."""
        domain = getattr(self.store, "_openfeature_domain", None)
        if domain is None:
            domain = register(PlatformStore(self.store).flag_values)
            self.store._openfeature_domain = domain  # type: ignore[attr-defined]
        return domain

    def flag(self, key: str, tenant: str, run_id: str = "", env=None) -> Any:
        """A flag's value for this tenant (and run), the environment giving the platform default."""
        return evaluate(self.flag_domain, key, platform_defaults(env)[key], tenant, run_id)[0]

    def _now(self) -> datetime:
        return self.store._now()

    def _one(self, table, model: type[BaseModel], tenant: str, *where, what: str):
        """The one row of `table` in `tenant` matching `where`, as `model`; UnknownRecord (`what`
        names it) when there is none, in this tenant or at all."""
        with self.store._reading() as conn:
            row = conn.execute(select(table).where(table.c.tenant == tenant, *where)).mappings().first()
        if row is None:
            raise UnknownRecord(what)
        return model.model_validate(dict(row))

    # -----------------------------------------------------------------------------------------
    # Principals and keys
    # -----------------------------------------------------------------------------------------

    def create_principal(self, tenant: str, name: str, role: Role | str) -> Principal:
        _name(tenant, "tenant")
        _name(name, "a user name")
        try:
            role = Role(role)
        except ValueError:
            raise InvalidRecord(f"unknown role {role!r} (one of: {', '.join(r.value for r in Role)})") from None
        principal = Principal(id=_new_id("u"), tenant=tenant, name=name, role=role, created_at=self._now())
        try:
            with self.store._writing() as conn:
                conn.execute(insert(principals).values(**{**principal.model_dump(), "role": role.value}))
        except IntegrityError:
            raise InvalidState(f"tenant {tenant} already has a user named {name}") from None
        return principal

    def get_principal(self, tenant: str, principal_id: str) -> Principal:
        return self._one(principals, Principal, tenant, principals.c.id == principal_id,
                         what=f"no user {principal_id} in tenant {tenant}")

    def find_principal(self, tenant: str, name: str) -> Principal:
        return self._one(principals, Principal, tenant, principals.c.name == name,
                         what=f"no user named {name} in tenant {tenant}")

    def list_principals(self, tenant: str) -> list[Principal]:
        with self.store._reading() as conn:
            rows = conn.execute(
                select(principals).where(principals.c.tenant == tenant).order_by(principals.c.name)
            ).mappings()
            return [Principal.model_validate(dict(row)) for row in rows]

    def issue_key(self, tenant: str, principal_id: str) -> IssuedKey:
        principal = self.get_principal(tenant, principal_id)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(id=_new_id("k"), tenant=tenant, principal_id=principal.id, created_at=self._now())
        with self.store._writing() as conn:
            conn.execute(insert(api_keys).values(**key.model_dump(), token_sha256=token_hash(token)))
        return IssuedKey(key=key, token=token)

    def revoke_key(self, tenant: str, key_id: str) -> ApiKey:
        with self.store._writing() as conn:
            moved = conn.execute(
                update(api_keys)
                .where(api_keys.c.tenant == tenant, api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self._now())
            ).rowcount
            row = conn.execute(
                select(*(c for c in api_keys.c if c.name != "token_sha256"))
                .where(api_keys.c.tenant == tenant, api_keys.c.id == key_id)
            ).mappings().first()
        if row is None:
            raise UnknownRecord(f"no API key {key_id} in tenant {tenant}")
        if not moved:
            raise InvalidState(f"API key {key_id} is already revoked")
        return ApiKey.model_validate(dict(row))

    def get_key(self, tenant: str, key_id: str) -> ApiKey:
        with self.store._reading() as conn:
            row = conn.execute(
                select(*(c for c in api_keys.c if c.name != "token_sha256"))
                .where(api_keys.c.tenant == tenant, api_keys.c.id == key_id)
            ).mappings().first()
        if row is None:
            raise UnknownRecord(f"no API key {key_id} in tenant {tenant}")
        return ApiKey.model_validate(dict(row))

    def owner_tenant(self, kind: str, record_id: str) -> str | None:
        """The tenant a spec, run, key or user belongs to, whoever asks (None: no such row);
        for auditing a caller who named another tenant's id."""
        table = {"spec": specs, "run": builds, "key": api_keys, "user": principals}[kind]
        id_column = table.c.id
        with self.store._reading() as conn:
            return conn.execute(select(table.c.tenant).where(id_column == record_id)).scalar()

    def list_keys(self, tenant: str) -> list[ApiKey]:
        with self.store._reading() as conn:
            rows = conn.execute(
                select(*(c for c in api_keys.c if c.name != "token_sha256"))
                .where(api_keys.c.tenant == tenant)
                .order_by(api_keys.c.created_at, api_keys.c.id)
            ).mappings()
            return [ApiKey.model_validate(dict(row)) for row in rows]

    def authenticate(self, token: str) -> Principal | None:
        """The principal a live (unrevoked) token belongs to, or None."""
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with self.store._reading() as conn:
            row = conn.execute(
                select(principals)
                .join(api_keys, (api_keys.c.principal_id == principals.c.id)
                      & (api_keys.c.tenant == principals.c.tenant))
                .where(api_keys.c.token_sha256 == token_hash(token), api_keys.c.revoked_at.is_(None))
            ).mappings().first()
        return None if row is None else Principal.model_validate(dict(row))

    # -----------------------------------------------------------------------------------------
    # Specs and the builds started from them
    # -----------------------------------------------------------------------------------------

    def create_spec(self, tenant: str, text: str, mode: SpecMode, created_by: str) -> SpecRecord:
        spec = SpecRecord(id=_new_id("s"), tenant=tenant, text=text, mode=mode, created_by=created_by,
                          created_at=self._now())
        with self.store._writing() as conn:
            conn.execute(insert(specs).values(**{**spec.model_dump(), "mode": mode.value}))
        return spec

    def get_spec(self, tenant: str, spec_id: str) -> SpecRecord:
        return self._one(specs, SpecRecord, tenant, specs.c.id == spec_id, what=f"no spec {spec_id}")

    def record_plan(self, tenant: str, spec_id: str, plan_json: str, planned_by: str) -> SpecRecord:
        with self.store._writing() as conn:
            moved = conn.execute(
                update(specs)
                .where(specs.c.tenant == tenant, specs.c.id == spec_id)
                .values(plan_json=plan_json, planned_by=planned_by, planned_at=self._now())
            ).rowcount
        if moved != 1:
            raise UnknownRecord(f"no spec {spec_id}")
        return self.get_spec(tenant, spec_id)

    def submit_run(self, tenant: str, spec_id: str, run: BuildRun, submitted_by: str) -> BuildRun:
        """Create the build (status submitted, for the submissions sensor) and its link to the spec,
        in one transaction: either both exist or neither."""
        if run.tenant != tenant:
            raise InvalidRecord("a build is submitted in its own tenant")
        values = run.model_dump(mode="python")
        values["mode"] = run.mode.value
        values["status"] = run.status.value
        flags = self.resolve_build_flags(run)  # a new run has no run-scope values yet
        with self.store._writing() as conn:
            if conn.execute(select(specs.c.id).where(specs.c.tenant == tenant, specs.c.id == spec_id)).first() is None:
                raise UnknownRecord(f"no spec {spec_id}")
            conn.execute(insert(builds).values(**values))
            conn.execute(insert(spec_runs).values(build_id=run.id, spec_id=spec_id, tenant=tenant,
                                                  submitted_by=submitted_by, created_at=self._now()))
            self._keep_build_flags(conn, flags)
        return self.get_run(tenant, run.id)

    def get_run(self, tenant: str, build_id: str) -> BuildRun:
        """A build of this tenant (started through the API or not)."""
        return self._one(builds, BuildRun, tenant, builds.c.id == build_id, what=f"no run {build_id}")

    def run_view(self, tenant: str, build_id: str) -> RunView:
        """The run, its spec link, gate and kept flags in one read (UnknownRecord for another
        tenant's run): a GET of a run is one transaction, not four."""
        with self.store._reading() as conn:
            row = conn.execute(select(builds).where(builds.c.tenant == tenant, builds.c.id == build_id)
                               ).mappings().first()
            if row is None:
                raise UnknownRecord(f"no run {build_id}")
            return self._views(conn, tenant, [BuildRun.model_validate(dict(row))])[0]

    def run_views(self, tenant: str, runs: list[BuildRun]) -> list[RunView]:
        """The views of runs already read (a list), with three queries whatever their number."""
        with self.store._reading() as conn:
            return self._views(conn, tenant, runs)

    @staticmethod
    def _views(conn, tenant: str, runs: list[BuildRun]) -> list[RunView]:
        ids = [run.id for run in runs]
        if not ids:
            return []
        links = {r["build_id"]: SpecRun.model_validate(dict(r)) for r in conn.execute(
            select(spec_runs).where(spec_runs.c.tenant == tenant, spec_runs.c.build_id.in_(ids))).mappings()}
        gates = {r["build_id"]: ApprovalGate.model_validate(dict(r)) for r in conn.execute(
            select(approvals).where(approvals.c.build_id.in_(ids))).mappings()}
        kept = {r["build_id"]: _build_flags(r) for r in conn.execute(
            select(build_flags).where(build_flags.c.tenant == tenant, build_flags.c.build_id.in_(ids))).mappings()}
        return [RunView(build=run, link=links.get(run.id), gate=gates.get(run.id), flags=kept.get(run.id))
                for run in runs]

    def spec_of_run(self, tenant: str, build_id: str) -> SpecRun | None:
        try:
            return self._one(spec_runs, SpecRun, tenant, spec_runs.c.build_id == build_id, what="")
        except UnknownRecord:
            return None

    def promote_run(self, tenant: str, build_id: str, by: str) -> SpecRun:
        """Make this run its spec's promoted one (the previous one, if any, stops being it)."""
        with self.store._writing() as conn:
            link = conn.execute(
                select(spec_runs).where(spec_runs.c.tenant == tenant, spec_runs.c.build_id == build_id)
                .with_for_update()
            ).mappings().first()
            if link is None:
                raise InvalidState(f"run {build_id} was not started from a spec: there is nothing to promote it in")
            conn.execute(update(spec_runs)
                         .where(spec_runs.c.tenant == tenant, spec_runs.c.spec_id == link["spec_id"])
                         .values(promoted_by=None, promoted_at=None))
            conn.execute(update(spec_runs).where(spec_runs.c.build_id == build_id)
                         .values(promoted_by=by, promoted_at=self._now()))
        return self.spec_of_run(tenant, build_id)  # type: ignore[return-value]

    def list_runs(self, tenant: str, limit: int = 50, status: str | None = None) -> list[BuildRun]:
        return self.store.list_builds(limit=limit, status=status, tenant=tenant)

    def count_runs_by_status(self, tenant: str | None = None) -> dict[str, int]:
        query = select(builds.c.status, func.count()).group_by(builds.c.status)
        if tenant is not None:
            query = query.where(builds.c.tenant == tenant)
        with self.store._reading() as conn:
            return {status: int(count) for status, count in conn.execute(query).all()}

    def count_specs(self) -> int:
        with self.store._reading() as conn:
            return int(conn.execute(select(func.count()).select_from(specs)).scalar() or 0)

    def count_planned_specs(self) -> int:
        with self.store._reading() as conn:
            return int(conn.execute(
                select(func.count()).select_from(specs).where(specs.c.plan_json.is_not(None))
            ).scalar() or 0)

    # -----------------------------------------------------------------------------------------
    # Audit
    # -----------------------------------------------------------------------------------------

    def audit(self, tenant: str, actor: str, action: str, target_type: str, target_id: str,
              outcome: str = "ok", detail: str = "") -> None:
        """Append one entry; the detail loses personal data and secrets first."""
        with self.store._writing() as conn:
            conn.execute(insert(audit_log).values(
                tenant=tenant, actor=actor, action=action, target_type=target_type,
                target_id=target_id[:64], outcome=outcome, detail=redact(detail), at=self._now(),
            ))

    def list_audit(self, tenant: str, limit: int = 100, action: str | None = None,
                   target: tuple[str, str] | None = None) -> list[AuditEntry]:
        """Newest first; optionally one action, or one target (type, id)."""
        query = (select(audit_log).where(audit_log.c.tenant == tenant)
                 .order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(max(1, limit)))
        if action is not None:
            query = query.where(audit_log.c.action == action)
        if target is not None:
            query = query.where(audit_log.c.target_type == target[0], audit_log.c.target_id == target[1])
        with self.store._reading() as conn:
            return [AuditEntry.model_validate(dict(row)) for row in conn.execute(query).mappings()]

    # -----------------------------------------------------------------------------------------
    # Feature flags
    # -----------------------------------------------------------------------------------------

    def set_flag(self, key: str, value: Any, scope: FlagScope | str, tenant: str = "", run_id: str = "",
                 updated_by: str = "") -> FlagValue:
        """Set (or replace) a flag's value at one scope. Platform scope has no tenant; run scope
        names the tenant's run."""
        scope = FlagScope(scope)
        value = check_flag_value(key, value)
        if scope is FlagScope.platform:
            tenant, run_id = "", ""
        else:
            _name(tenant, "tenant")
        if scope is FlagScope.tenant:
            run_id = ""
        if scope is FlagScope.run:
            self.get_run(tenant, run_id)  # UnknownRecord for another tenant's run
        where = (feature_flags.c.key == key, feature_flags.c.scope == scope.value,
                 feature_flags.c.tenant == tenant, feature_flags.c.run_id == run_id)
        with self.store._writing() as conn:
            if scope is FlagScope.run:
                self._require_unstarted(conn, run_id)
            conn.execute(delete(feature_flags).where(*where))
            conn.execute(insert(feature_flags).values(
                key=key, scope=scope.value, tenant=tenant, run_id=run_id, value_json=json.dumps(value),
                updated_by=updated_by or "-", updated_at=self._now(),
            ))
            if scope is FlagScope.run:
                self._refreeze(conn, run_id, key, value, FlagScope.run.value)
        return FlagValue(key=key, scope=scope, tenant=tenant, run_id=run_id, value=value)

    def clear_flag(self, key: str, scope: FlagScope | str, tenant: str = "", run_id: str = "") -> bool:
        scope = FlagScope(scope)
        if scope is FlagScope.platform:
            tenant, run_id = "", ""
        with self.store._writing() as conn:
            if scope is FlagScope.run:
                self._require_unstarted(conn, run_id, tenant)
            cleared = conn.execute(delete(feature_flags).where(
                feature_flags.c.key == key, feature_flags.c.scope == scope.value,
                feature_flags.c.tenant == tenant, feature_flags.c.run_id == (run_id if scope is FlagScope.run else ""),
            )).rowcount > 0
            if cleared and scope is FlagScope.run:
                # The run falls back to its tenant's (or the platform's) value.
                values = self._flag_values(conn, tenant, run_id)
                value, found = resolve(values, key, tenant, run_id)
                if found is None:
                    value = platform_defaults()[key]
                self._refreeze(conn, run_id, key, value, found.value if found else "env")
            return cleared

    def flag_values(self, tenant: str, run_id: str = "") -> list[FlagValue]:
        """Every value that could apply to this tenant (and run): platform, tenant and run scope."""
        with self.store._reading() as conn:
            return self._flag_values(conn, tenant, run_id)

    @staticmethod
    def _flag_values(conn, tenant: str, run_id: str) -> list[FlagValue]:
        rows = conn.execute(
            select(feature_flags).where(
                (feature_flags.c.scope == FlagScope.platform.value)
                | ((feature_flags.c.tenant == tenant)
                   & ((feature_flags.c.scope == FlagScope.tenant.value)
                      | ((feature_flags.c.scope == FlagScope.run.value)
                         & (feature_flags.c.run_id == run_id))))
            ).order_by(feature_flags.c.key, feature_flags.c.scope)
        ).mappings().all()
        return [FlagValue(key=r["key"], scope=FlagScope(r["scope"]), tenant=r["tenant"], run_id=r["run_id"],
                          value=json.loads(r["value_json"])) for r in rows]

    # -----------------------------------------------------------------------------------------
    # The flags a build obeys: resolved at submission, kept with it
    # -----------------------------------------------------------------------------------------

    def resolve_build_flags(self, build: BuildRun, env=None) -> BuildFlags:
        """Every flag for this build through the OpenFeature client: run < tenant < platform
        values set in the store, then the environment's platform default."""
        defaults = platform_defaults(env)
        resolved = {}
        for key in FLAGS:
            value, scope = evaluate(self.flag_domain, key, defaults[key], build.tenant, build.id)
            resolved[key] = (value, scope.value if scope else None)
        return build_flags_from(build.id, build.tenant, resolved)

    def freeze_build_flags(self, build: BuildRun, env=None) -> BuildFlags:
        """The build's kept flags; resolved and kept now if it has none yet (the first to keep
        them wins, so every process then reads the same values)."""
        kept = self.build_flags(build.id)
        if kept is not None:
            return kept
        flags = self.resolve_build_flags(build, env)
        try:
            with self.store._writing() as conn:
                self._keep_build_flags(conn, flags)
        except IntegrityError:
            pass  # another process kept them first: theirs hold
        return self.build_flags(build.id)  # type: ignore[return-value]

    def build_flags(self, build_id: str) -> BuildFlags | None:
        with self.store._reading() as conn:
            row = conn.execute(select(build_flags).where(build_flags.c.build_id == build_id)).mappings().first()
        return None if row is None else _build_flags(row)

    def _keep_build_flags(self, conn, flags: BuildFlags) -> None:
        conn.execute(insert(build_flags).values(
            build_id=flags.build_id, tenant=flags.tenant, values_json=json.dumps(flags.values),
            sources_json=json.dumps(flags.sources), resolved_at=self._now()))
        self._put_budget_limits(conn, flags)

    def _put_budget_limits(self, conn, flags: BuildFlags) -> None:
        # The run budget the repair ladder reads is the budget flags' values (usage kept as counted).
        budget = flags.run_budget()
        limits = budget.model_dump(include={"max_attempts", "max_tokens", "max_seconds", "max_cost_usd"})
        if not conn.execute(update(run_budgets).where(run_budgets.c.build_id == flags.build_id)
                            .values(**limits)).rowcount:
            conn.execute(insert(run_budgets).values(**budget.model_dump()))

    def _require_unstarted(self, conn, build_id: str, tenant: str | None = None) -> None:
        query = select(builds.c.status).where(builds.c.id == build_id).with_for_update()
        if tenant is not None:
            query = query.where(builds.c.tenant == tenant)
        status = conn.execute(query).scalar()
        if status is None:
            raise UnknownRecord(f"no run {build_id}")
        if status != BuildStatus.submitted.value:
            raise InvalidState(f"run {build_id} is {status}: its flags were fixed when it started; "
                               "set run flags while it is still submitted")

    def _refreeze(self, conn, build_id: str, key: str, value: Any, source: str) -> None:
        row = conn.execute(select(build_flags).where(build_flags.c.build_id == build_id)).mappings().first()
        if row is None:
            return  # not resolved yet: it will be, with this value, when it is claimed
        kept = _build_flags(row)
        flags = kept.model_copy(update={"values": {**kept.values, key: value},
                                        "sources": {**kept.sources, key: source}})
        conn.execute(update(build_flags).where(build_flags.c.build_id == build_id).values(
            values_json=json.dumps(flags.values), sources_json=json.dumps(flags.sources)))
        self._put_budget_limits(conn, flags)

    def admitted(self, submitted: list[BuildRun]) -> list[BuildRun]:
        """Read only (the submissions sensor's view): the submitted builds, in the order given,
        that their tenants may start now under META_V4_MAX_WORKERS. A build that kept no flags
        yet counts with the platform's value; its run keeps them when it starts."""
        default = int(os.environ.get("META_V4_MAX_WORKERS", FLAGS["META_V4_MAX_WORKERS"].default))
        with self.store._reading() as conn:
            ids = set(self._admit(conn, [(b.id, b.tenant) for b in submitted], default))
        return [b for b in submitted if b.id in ids]

    @staticmethod
    def _admit(conn, candidates: list[tuple[str, str]], unkept: int | None = None) -> list[str]:
        """unkept: the worker limit of a build that kept no flags yet (None: it waits)."""
        if not candidates:
            return []
        ids = [build_id for build_id, _ in candidates]
        kept = {r.build_id: json.loads(r.values_json) for r in conn.execute(
            select(build_flags.c.build_id, build_flags.c.values_json).where(build_flags.c.build_id.in_(ids)))}
        tenants = sorted({tenant for _, tenant in candidates})
        running = {tenant: int(n) for tenant, n in conn.execute(
            select(builds.c.tenant, func.count()).where(builds.c.tenant.in_(tenants),
                                                       builds.c.status.in_(WORKING_STATUSES))
            .group_by(builds.c.tenant)).all()}
        # A build kept no flags yet (submitted a moment ago): it waits for the next claim.
        return tenant_admission([(build_id, tenant, int(kept[build_id]["META_V4_MAX_WORKERS"])
                                  if build_id in kept else unkept)
                                 for build_id, tenant in candidates if build_id in kept or unkept], running)


def _build_flags(row) -> BuildFlags:
    return BuildFlags(build_id=row["build_id"], tenant=row["tenant"], values=json.loads(row["values_json"]),
                      sources=json.loads(row["sources_json"]), resolved_at=row["resolved_at"])


def kept_build_flags(store: Store, build_id: str, env=None) -> BuildFlags:
    """The flags this build obeys, for whatever process runs it: those kept at its submission
    (resolved and kept now for a build that has none yet)."""
    return PlatformStore(store).freeze_build_flags(store.get_build(build_id), env)
