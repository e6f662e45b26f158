"""Shared fixtures: every test gets its own storage root, so nothing leaks between tests."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


@pytest.fixture
def mb_home(tmp_path, monkeypatch):
    home = tmp_path / "mb"
    (home / "dagster").mkdir(parents=True)
    monkeypatch.setenv("MB_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.delenv("MB_DATABASE_URL", raising=False)
    monkeypatch.delenv("MB_RISK_THRESHOLD", raising=False)
    monkeypatch.delenv("MB_PROVIDER", raising=False)
    return home
