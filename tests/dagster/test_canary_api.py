"""The canary through the API, /metrics and `mb canary`, over a real store and Dagster instance."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from mb_core.canary.models import CanarySample
from mb_core.canary.recording import refresh_reports
from mb_core.canary.variants import Variant, assign_variant
from mb_core.pipeline import BuildEnvironment
from mb_core.platform.ratelimit import TenantRateLimiter
from mb_core.platform.roles import Role
from mb_core.settings import Settings
from mb_core.store.canary import CanaryStore
from mb_dagster.api.app import create_app
from mb_dagster.api.service import Service

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MB = [sys.executable, "-m", "mb_dagster.cli"]


def _put_samples(store, tenant: str, n: int, v4_success: float, baseline_success: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for k in range(n):
        build_id = f"{tenant}-{k:04d}"
        variant = assign_variant(build_id, 50)
        ok = bool(rng.random() < (v4_success if variant is Variant.v4 else baseline_success))
        CanaryStore(store).put_sample(CanarySample(
            build_id=build_id, tenant=tenant, variant=variant, randomized=True, canary_percent=50, success=ok,
            status="released" if ok else "rolled_back", duration_s=20.0 + k % 7, cost_usd=0.0, tokens=1000,
            iterations=1, finished_at=T0 + timedelta(minutes=k)))


@pytest.fixture
def service(mb_home):
    svc = Service(env=BuildEnvironment.open(Settings.from_env()), limiter=TenantRateLimiter("memory://"))
    yield svc
    svc.env.store.dispose()


def _client(svc: Service, tenant: str) -> tuple[TestClient, dict]:
    principal = svc.platform.create_principal(tenant, f"viewer-{tenant}", Role.viewer)
    token = svc.platform.issue_key(tenant, principal.id).token
    return TestClient(create_app(svc)), {"Authorization": f"Bearer {token}"}


def _metrics(client: TestClient) -> dict:
    found = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_the_stats_endpoint_and_metrics_show_each_tenants_latest_report(service):
    _put_samples(service.env.store, "acme", 120, v4_success=0.95, baseline_success=0.4, seed=1)
    _put_samples(service.env.store, "globex", 30, v4_success=0.8, baseline_success=0.8, seed=2)
    client, acme = _client(service, "acme")
    _, globex = _client(service, "globex")
    before = client.get("/api/meta/v4/canary/stats", headers=acme).json()
    assert before["meta"]["available"] is False
    assert sum(v["samples"] for v in before["data"]["attributes"]["collected"].values()) == 120
    refresh_reports(service.env.store)

    document = client.get("/api/meta/v4/canary/stats", headers=acme).json()
    attributes = document["data"]["attributes"]
    assert document["meta"]["available"] is True
    assert attributes["recommendation"] == "promote" and attributes["samples"] == 120
    assert attributes["variants"]["v4"]["success_rate"] > attributes["variants"]["baseline"]["success_rate"]
    assert {t["test"] for t in attributes["fixed_tests"]} == {"fisher_exact", "mann_whitney_u"}
    assert attributes["sequential"][0]["metric"] == "success" and attributes["sequential"][0]["significant"]
    other = client.get("/api/meta/v4/canary/stats", headers=globex).json()["data"]["attributes"]
    assert other["samples"] == 30 and other["recommendation"] == "continue"  # its own, not acme's

    metrics = _metrics(client)
    v4_acme = (("tenant", "acme"), ("variant", "v4"))
    assert metrics[("meta_builder_canary_samples_total", v4_acme)] == attributes["variants"]["v4"]["samples"]
    assert metrics[("meta_builder_canary_success_rate", v4_acme)] == pytest.approx(
        attributes["variants"]["v4"]["success_rate"])
    assert metrics[("meta_builder_canary_recommendation", (("recommendation", "promote"), ("tenant", "acme")))] == 1
    assert metrics[("meta_builder_canary_recommendation", (("recommendation", "continue"), ("tenant", "globex")))] == 1


def test_mb_canary_report_then_stats(mb_home):
    env = {**os.environ}
    empty = subprocess.run([*MB, "canary", "stats"], check=False, capture_output=True, text=True, env=env, timeout=300)
    assert empty.returncode == 1 and "no canary report of all tenants yet" in empty.stderr
    store = BuildEnvironment.open(Settings.from_env()).store
    _put_samples(store, "acme", 80, v4_success=0.2, baseline_success=0.9, seed=3)
    store.dispose()
    made = subprocess.run([*MB, "canary", "report"], check=False, capture_output=True, text=True, env=env, timeout=600)
    assert made.returncode == 0, made.stderr[-2000:]
    assert "**Recommendation: roll back**" in made.stdout
    assert "check no_significant_regression FAILED" in made.stdout
    shown = subprocess.run([*MB, "canary", "stats", "--tenant", "acme", "--json"], check=False, capture_output=True,
                           text=True, env=env, timeout=300)
    assert shown.returncode == 0 and '"recommendation": "roll_back"' in shown.stdout
