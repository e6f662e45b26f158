"""Settings from the environment. One place that says where things live and which provider runs."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from mb_core.diff_safety import DiffLimits
from mb_core.errors import InvalidSettings
from mb_core.scheduling.tiers import tier_of


class Settings(BaseModel):
    home: Path  # storage root: store, workspaces, assets, artifacts
    database_url: str
    dagster_home: Path
    provider: str = "offline"
    risk_threshold: int = 50  # builds scoring at or above it wait for approval
    sandbox_timeout_s: int = 180
    max_spec_bytes: int = 256 * 1024
    max_spec_words: int = 5000  # MB_MAX_SPEC_WORDS: a specification is prose, not a data dump
    max_diff_bytes: int = DiffLimits().max_bytes  # MB_MAX_DIFF_BYTES
    max_diff_files: int = DiffLimits().max_files  # MB_MAX_DIFF_FILES
    tenant: str = "default"
    # Production profile: Dagster's storage on PostgreSQL (dagster.postgres.yaml reads this URL);
    # the same URL as database_url puts the store and the instance in one database.
    dagster_postgres_url: str | None = None  # MB_DAGSTER_POSTGRES_URL
    redis_url: str | None = None  # MB_REDIS_URL: the API's shared rate limits
    celery_broker_url: str | None = None  # MB_CELERY_BROKER_URL: the run workers' queue (Redis)
    sla: str = "normal"  # MB_SLA: a build's default service tier (fast, normal, thorough)

    @property
    def diff_limits(self) -> DiffLimits:
        return DiffLimits(max_bytes=self.max_diff_bytes, max_files=self.max_diff_files)

    @property
    def workspaces_dir(self) -> Path:
        return self.home / "workspaces"

    @property
    def assets_dir(self) -> Path:
        return self.home / "assets"

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"

    def private_paths(self) -> list[Path]:
        """Host folders generated code must never see: the storage root (store, LLM exchanges,
        every workspace, assets, artifacts), Dagster's home and a SQLite store kept elsewhere."""
        paths = [self.home, self.dagster_home]
        if self.database_url.startswith("sqlite:///"):
            db_file = Path(self.database_url.removeprefix("sqlite:///").split("?", 1)[0])
            if str(db_file) not in ("", ":memory:"):
                paths.append(db_file.expanduser().resolve().parent)
        return paths

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("MB_HOME") or ".mb").expanduser().resolve()
        return cls(
            home=home,
            database_url=env.get("MB_DATABASE_URL") or f"sqlite:///{home / 'store.db'}",
            dagster_home=Path(env.get("DAGSTER_HOME") or home / "dagster").expanduser().resolve(),
            provider=env.get("MB_PROVIDER") or "offline",
            risk_threshold=int(env.get("MB_RISK_THRESHOLD") or 50),
            sandbox_timeout_s=int(env.get("MB_SANDBOX_TIMEOUT") or 180),
            tenant=env.get("MB_TENANT") or "default",
            dagster_postgres_url=env.get("MB_DAGSTER_POSTGRES_URL") or None,
            redis_url=env.get("MB_REDIS_URL") or None,
            celery_broker_url=env.get("MB_CELERY_BROKER_URL") or None,
            sla=tier_of(env.get("MB_SLA") or "normal").value,
            max_spec_words=_limit(env, "MB_MAX_SPEC_WORDS", cls.model_fields["max_spec_words"].default),
            max_diff_bytes=_limit(env, "MB_MAX_DIFF_BYTES", cls.model_fields["max_diff_bytes"].default),
            max_diff_files=_limit(env, "MB_MAX_DIFF_FILES", cls.model_fields["max_diff_files"].default),
        )


def _limit(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise InvalidSettings(f"{name} must be a positive whole number, not {raw!r}")
    return value
