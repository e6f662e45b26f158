"""Settings from the environment. One place that says where things live and which provider runs."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from mb_core.diff_safety import DiffLimits
from mb_core.errors import InvalidSettings


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
