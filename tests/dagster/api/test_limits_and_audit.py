"""Rate limits per tenant on a real Redis, and one audit entry per audited action."""

from __future__ import annotations

import uuid

import pytest
import redis
from fastapi.testclient import TestClient

from mb_core.models import ApprovalDecision, ApprovalGate, BuildStatus
from mb_core.platform.ratelimit import TenantRateLimiter
from mb_dagster.api.app import create_app
from mb_dagster.api.service import Service

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_api(open_api):
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is not reachable ({exc}); the rate limit tests need it",
                    pytrace=False)
    # A namespace of its own: other tests (and other checkouts) on the same Redis never collide.
    namespace = f"mb-test-{uuid.uuid4().hex[:10]}"
    api = open_api(TenantRateLimiter(REDIS_URL, namespace=namespace))
    yield api, client, namespace
    for key in client.scan_iter(f"*{namespace}*"):
        client.delete(key)


def test_the_21st_spec_in_an_hour_is_refused_and_another_tenant_is_not(redis_api):
    api, client, namespace = redis_api
    for _ in range(20):
        api.create_spec(text="Build a todo app with tasks and projects")
    refused = api.call("acme:owner", "POST", "/api/meta/v2/specs",
                       json={"data": {"type": "spec", "attributes": {"text": "Build a todo app"}}})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.json()["errors"][0]["code"] == "rate_limited"
    # The counters are in Redis, not in this process.
    assert any(namespace in key.decode() for key in client.scan_iter(f"*{namespace}*"))
    # Nothing was written for the refused request.
    assert api.service.platform.count_specs() == 20
    # Another tenant has its own window; another kind of request too.
    api.create_spec("globex:owner")
    spec_id = api.service.platform.list_audit("acme", limit=1)[0].target_id
    assert api.call("acme:member", "POST", f"/api/meta/v2/specs/{spec_id}/plan").status_code == 200


def test_runs_are_limited_to_ten_an_hour_per_tenant(redis_api):
    api, _, _ = redis_api
    spec_id = api.create_spec()
    for _ in range(10):
        api.start_run(spec_id)
    refused = api.call("acme:admin", "POST", f"/api/meta/v2/specs/{spec_id}/runs")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert len(api.service.env.store.list_builds(tenant="acme")) == 10


def test_the_limiter_falls_back_to_memory():
    limiter = TenantRateLimiter("memory://", limits={"specs": "2/hour"})
    assert [limiter.hit("specs", "acme").allowed for _ in range(3)] == [True, True, False]
    assert limiter.hit("specs", "globex").allowed


def test_every_audited_action_appears_once(api, advance):
    store = api.service.env.store
    spec_id = api.create_spec()
    approve_id, reject_id, cancel_id, promote_id = (api.start_run(spec_id) for _ in range(4))
    for build_id in (approve_id, reject_id):
        store.put_gate(ApprovalGate(build_id=build_id, risk_score=80, threshold=50,
                                    decision=ApprovalDecision.pending))
        advance(store, build_id, "awaiting_approval")
    advance(store, promote_id, "released")
    calls = [
        ("POST", f"/api/meta/v2/runs/{approve_id}/approve"),
        ("POST", f"/api/meta/v2/runs/{reject_id}/reject"),
        ("POST", f"/api/meta/v2/runs/{cancel_id}/cancel"),
        ("POST", f"/api/meta/v4/runs/{promote_id}/promote"),
    ]
    for method, path in calls:
        response = api.call("acme:admin", method, path)
        assert response.status_code == 200, (path, response.text)
    flag = api.call("acme:owner", "PUT", "/api/meta/v4/flags/META_V4_CHAOS_ENABLED",
                    json={"data": {"type": "flag", "attributes": {"scope": "tenant", "value": True}}})
    assert flag.status_code == 200, flag.text

    entries = api.call("acme:admin", "GET", "/api/meta/v2/audit?limit=500").json()["data"]
    seen = [(e["attributes"]["action"], e["attributes"]["target_id"]) for e in entries]
    expected = [("spec.create", spec_id), ("run.approve", approve_id), ("run.reject", reject_id),
                ("run.cancel", cancel_id), ("run.promote", promote_id),
                ("flag.set", "META_V4_CHAOS_ENABLED@tenant")]
    expected += [("run.start", b) for b in (approve_id, reject_id, cancel_id, promote_id)]
    assert sorted(seen) == sorted(expected)
    assert {e["attributes"]["actor"] for e in entries} <= {api.users["acme:owner"], api.users["acme:admin"]}
    # The gate keeps who decided: the user, not the shell's $USER.
    assert store.get_gate(approve_id).decided_by == f"admin-acme ({api.users['acme:admin']})"
    assert store.get_build(reject_id).status is BuildStatus.rejected
    assert store.get_build(cancel_id).status is BuildStatus.cancelled
    # Refused decisions are audited as refused, once.
    again = api.call("acme:admin", "POST", f"/api/meta/v2/runs/{approve_id}/approve")
    assert again.status_code == 409
    refused = api.service.platform.list_audit("acme", action="run.approve")
    assert [e.outcome for e in refused] == ["refused", "ok"]


def test_members_and_viewers_cannot_read_the_audit(api):
    for who in ("acme:member", "acme:viewer"):
        assert api.call(who, "GET", "/api/meta/v2/audit").status_code == 403


def test_readiness_pings_redis_when_configured(redis_api):
    api, _, _ = redis_api
    api.service.redis_url = REDIS_URL
    response = api.client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["checks"]["redis"] == {"ok": True, "detail": "ping"}

    unreachable = "redis://127.0.0.1:9/0"  # the discard port: nothing answers there
    service = Service(env=api.service.env, limiter=TenantRateLimiter(unreachable), redis_url=unreachable)
    with TestClient(create_app(service)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    attributes = response.json()["data"]["attributes"]
    assert attributes["ready"] is False and attributes["checks"]["redis"]["ok"] is False
    assert attributes["checks"]["store"]["ok"] is True
