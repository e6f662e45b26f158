"""Bad input answers a 4xx JSON:API error and writes nothing."""

from __future__ import annotations

import pytest

from mb_core.models import BuildStatus

SPECS = "/api/meta/v2/specs"


def _nothing_written(api) -> None:
    assert api.service.platform.count_specs() == 0
    assert api.service.env.store.list_builds() == []
    assert api.service.platform.list_audit("acme") == []
    assert api.service.platform.flag_values("acme") == []


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["status"] == str(status) and errors[0]["detail"]
    return errors[0]


def test_malformed_json(api):
    response = api.client.post(SPECS, content=b'{"data": {"type": "spec", "attributes": {"text": "x"',
                                headers={**api.headers("acme:owner"), "content-type": "application/json"})
    assert _error(response, 400)["code"] == "malformed_json"
    _nothing_written(api)


@pytest.mark.parametrize("body", [
    {"data": {"type": "spec", "attributes": {"text": 42}}},
    {"data": {"type": "spec", "attributes": {"text": "Build a todo app", "mode": "telepathic"}}},
    {"data": {"type": "run", "attributes": {"text": "Build a todo app"}}},
    {"data": {"type": "spec", "attributes": {"text": "Build a todo app", "admin": True}}},
    {"data": {"type": "spec", "attributes": {"text": "   "}}},
    {"text": "Build a todo app"},
    [],
    "Build a todo app",
])
def test_wrong_shapes_and_types(api, body):
    response = api.call("acme:owner", "POST", SPECS, json=body)
    _error(response, 422)
    _nothing_written(api)


def test_unknown_ids(api):
    for method, path in [("GET", "/api/meta/v2/specs/s-unknown"), ("POST", "/api/meta/v2/specs/s-unknown/plan"),
                         ("POST", "/api/meta/v2/specs/s-unknown/runs"), ("GET", "/api/meta/v2/runs/b-unknown"),
                         ("POST", "/api/meta/v2/runs/b-unknown/approve"),
                         ("POST", "/api/meta/v2/runs/b-unknown/cancel"),
                         ("POST", "/api/meta/v4/runs/b-unknown/promote"),
                         ("GET", "/api/meta/v4/runs/b-unknown/timeline")]:
        assert _error(api.call("acme:owner", method, path), 404)["code"] == "not_found"
    assert _error(api.call("acme:owner", "GET", "/api/meta/v2/runs/..%2Fetc"), 404)
    _nothing_written(api)


def test_missing_and_revoked_keys(api):
    body = {"data": {"type": "spec", "attributes": {"text": "Build a todo app with tasks"}}}
    assert _error(api.client.post(SPECS, json=body), 401)["code"] == "unauthenticated"
    key = next(k for k in api.service.platform.list_keys("acme") if k.principal_id == api.users["acme:owner"])
    api.service.platform.revoke_key("acme", key.id)
    assert _error(api.call("acme:owner", "POST", SPECS, json=body), 401)
    _nothing_written(api)


def test_oversized_bodies_with_and_without_a_length(api):
    text = "Build a todo app with tasks. " * 20_000  # ~580 KB
    body = {"data": {"type": "spec", "attributes": {"text": text}}}
    assert _error(api.call("acme:owner", "POST", SPECS, json=body), 413)["code"] == "body_too_large"

    def chunks():
        payload = ('{"data": {"type": "spec", "attributes": {"text": "' + text + '"}}}').encode()
        for start in range(0, len(payload), 65536):
            yield payload[start:start + 65536]

    response = api.client.post(SPECS, content=chunks(),
                               headers={**api.headers("acme:owner"), "content-type": "application/json"})
    assert _error(response, 413)["code"] == "body_too_large"
    _nothing_written(api)


def test_a_flag_out_of_range_and_a_decision_on_a_run_not_waiting(api):
    response = api.call("acme:owner", "PUT", "/api/meta/v4/flags/FEATURE_META_V4_CANARY_PERCENT",
                        json={"data": {"type": "flag", "attributes": {"scope": "tenant", "value": 500}}})
    assert _error(response, 422)["code"] == "invalid_flag"
    response = api.call("acme:owner", "PUT", "/api/meta/v4/flags/NOT_A_FLAG",
                        json={"data": {"type": "flag", "attributes": {"scope": "tenant", "value": 1}}})
    _error(response, 422)
    _nothing_written(api)
    spec_id = api.create_spec()
    run_id = api.start_run(spec_id)
    assert _error(api.call("acme:owner", "POST", f"/api/meta/v2/runs/{run_id}/approve"), 409)
    assert _error(api.call("acme:owner", "POST", f"/api/meta/v4/runs/{run_id}/promote"), 409)
    assert api.service.env.store.get_build(run_id).status is BuildStatus.submitted


def test_v4_answers_404_when_the_tenant_switches_it_off(api):
    api.service.platform.set_flag("FEATURE_META_V4_ENABLED", False, "tenant", tenant="acme")
    assert _error(api.call("acme:viewer", "GET", "/api/meta/v4/stats"), 404)["code"] == "v4_disabled"
    assert api.call("globex:owner", "GET", "/api/meta/v4/stats").status_code == 200
    assert api.call("acme:viewer", "GET", "/api/meta/v2/runs").status_code == 200
