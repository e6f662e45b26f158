"""Queries over the platform's tables. Every read and write names its tenant: a row of another
tenant is never found, so callers answer "unknown" (404), never the row."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mb_core.errors import InvalidState, MBError
from mb_core.models import BuildRun, SpecMode
from mb_core.platform.flags import FlagScope, FlagValue, check_flag_value
from mb_core.platform.redaction import redact
from mb_core.platform.roles import Role
from mb_core.store.platform_tables import api_keys, audit_log, feature_flags, principals, spec_runs, specs
from mb_core.store.store import InvalidRecord, Store, _name
from mb_core.store.tables import builds

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

    def _now(self) -> datetime:
        return self.store._now()

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
        with self.store._reading() as conn:
            row = conn.execute(
                select(principals).where(principals.c.tenant == tenant, principals.c.id == principal_id)
            ).mappings().first()
        if row is None:
            raise UnknownRecord(f"no user {principal_id} in tenant {tenant}")
        return Principal.model_validate(dict(row))

    def find_principal(self, tenant: str, name: str) -> Principal:
        with self.store._reading() as conn:
            row = conn.execute(
                select(principals).where(principals.c.tenant == tenant, principals.c.name == name)
            ).mappings().first()
        if row is None:
            raise UnknownRecord(f"no user named {name} in tenant {tenant}")
        return Principal.model_validate(dict(row))

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
        with self.store._reading() as conn:
            row = conn.execute(
                select(specs).where(specs.c.tenant == tenant, specs.c.id == spec_id)
            ).mappings().first()
        if row is None:
            raise UnknownRecord(f"no spec {spec_id}")
        return SpecRecord.model_validate(dict(row))

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
        with self.store._writing() as conn:
            if conn.execute(select(specs.c.id).where(specs.c.tenant == tenant, specs.c.id == spec_id)).first() is None:
                raise UnknownRecord(f"no spec {spec_id}")
            conn.execute(insert(builds).values(**values))
            conn.execute(insert(spec_runs).values(build_id=run.id, spec_id=spec_id, tenant=tenant,
                                                  submitted_by=submitted_by, created_at=self._now()))
        return self.get_run(tenant, run.id)

    def get_run(self, tenant: str, build_id: str) -> BuildRun:
        """A build of this tenant (started through the API or not)."""
        with self.store._reading() as conn:
            row = conn.execute(
                select(builds).where(builds.c.tenant == tenant, builds.c.id == build_id)
            ).mappings().first()
        if row is None:
            raise UnknownRecord(f"no run {build_id}")
        return BuildRun.model_validate(dict(row))

    def spec_of_run(self, tenant: str, build_id: str) -> SpecRun | None:
        with self.store._reading() as conn:
            row = conn.execute(
                select(spec_runs).where(spec_runs.c.tenant == tenant, spec_runs.c.build_id == build_id)
            ).mappings().first()
        return None if row is None else SpecRun.model_validate(dict(row))

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
            conn.execute(delete(feature_flags).where(*where))
            conn.execute(insert(feature_flags).values(
                key=key, scope=scope.value, tenant=tenant, run_id=run_id, value_json=json.dumps(value),
                updated_by=updated_by or "-", updated_at=self._now(),
            ))
        return FlagValue(key=key, scope=scope, tenant=tenant, run_id=run_id, value=value)

    def clear_flag(self, key: str, scope: FlagScope | str, tenant: str = "", run_id: str = "") -> bool:
        scope = FlagScope(scope)
        if scope is FlagScope.platform:
            tenant, run_id = "", ""
        with self.store._writing() as conn:
            return conn.execute(delete(feature_flags).where(
                feature_flags.c.key == key, feature_flags.c.scope == scope.value,
                feature_flags.c.tenant == tenant, feature_flags.c.run_id == (run_id if scope is FlagScope.run else ""),
            )).rowcount > 0

    def flag_values(self, tenant: str, run_id: str = "") -> list[FlagValue]:
        """Every value that could apply to this tenant (and run): platform, tenant and run scope."""
        with self.store._reading() as conn:
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
