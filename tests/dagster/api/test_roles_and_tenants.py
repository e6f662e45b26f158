"""Every endpoint checks the caller's role, and another tenant's ids answer 404, never the row."""

from __future__ import annotations

import pytest

from mb_core.models import ApprovalDecision, ApprovalGate
from mb_core.platform.roles import Action, Role, may

DECISION = {"data": {"type": "decision", "attributes": {"reason": "checked"}}}
FLAG = {"data": {"type": "flag", "attributes": {"scope": "tenant", "value": 10}}}

# (method, path, body, action); {spec} and {run} are filled with the first tenant's ids.
ENDPOINTS = [
    ("POST", "/api/meta/v2/specs", {"data": {"type": "spec", "attributes": {"text": "Build a todo app with tasks"}}},
     Action.create_spec),
    ("GET", "/api/meta/v2/specs/{spec}", None, Action.read),
    ("POST", "/api/meta/v2/specs/{spec}/plan", None, Action.plan),
    ("POST", "/api/meta/v2/specs/{spec}/runs", None, Action.run),
    ("GET", "/api/meta/v2/runs/{run}", None, Action.read),
    ("GET", "/api/meta/v2/runs", None, Action.read),
    ("POST", "/api/meta/v2/runs/{run}/approve", DECISION, Action.decide),
    ("POST", "/api/meta/v2/runs/{run}/reject", DECISION, Action.decide),
    ("POST", "/api/meta/v2/runs/{run}/cancel", None, Action.cancel),
    ("GET", "/api/meta/v2/audit", None, Action.read_audit),
    ("POST", "/api/meta/v4/runs/{run}/promote", None, Action.decide),
    ("GET", "/api/meta/v4/runs/{run}/timeline", None, Action.read),
    ("GET", "/api/meta/v4/stats", None, Action.read),
    ("GET", "/api/meta/v4/circuit-breakers", None, Action.read),
    ("GET", "/api/meta/v4/canary/stats", None, Action.read),
    ("GET", "/api/meta/v4/chaos/stats", None, Action.read),
    ("GET", "/api/meta/v4/flags", None, Action.read),
    ("PUT", "/api/meta/v4/flags/META_V4_MAX_WORKERS", FLAG, Action.manage_flags),
    ("GET", "/api/meta/v2/keys", None, Action.manage_keys),
    ("POST", "/api/meta/v2/keys", {"data": {"type": "key", "attributes": {"user_id": "{user}"}}},
     Action.manage_keys),
    ("POST", "/api/meta/v2/keys/{key}/revoke", None, Action.manage_keys),
]
BY_ID = [e for e in ENDPOINTS if "{" in e[1]]


def _ids(api) -> dict[str, str]:
    spec = api.create_spec()
    user = api.users["acme:viewer"]
    # A second key of the viewer's, to revoke: the matrix's callers keep theirs.
    key = api.service.platform.issue_key("acme", user).key.id
    return {"spec": spec, "run": api.start_run(spec), "user": user, "key": key}


def _fill(body, ids):
    """The body with its {placeholders} filled."""
    if isinstance(body, dict):
        return {k: _fill(v, ids) for k, v in body.items()}
    return body.format(**ids) if isinstance(body, str) else body


@pytest.mark.parametrize("role", list(Role))
def test_role_by_endpoint_matrix(api, role):
    ids = _ids(api)
    outcomes = {}
    for method, path, body, action in ENDPOINTS:
        response = api.call(f"acme:{role.value}", method, path.format(**ids), json=_fill(body, ids))
        outcomes[(method, path)] = response.status_code
        if may(role, action):
            assert response.status_code not in (401, 403, 500), (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
            assert response.json()["errors"][0]["code"] == "forbidden"
    assert len(outcomes) == len(ENDPOINTS)
    # Every refusal is audited once, as denied, naming the endpoint (never an id).
    denied = [e for e in api.service.platform.list_audit("acme", limit=500) if e.outcome == "denied"]
    expected = [(f"api.{action.value}", method) for method, _, _, action in ENDPOINTS if not may(role, action)]
    assert sorted((e.action, e.target_id.split(" ")[0]) for e in denied) == sorted(expected)
    assert not any(value in e.target_id for e in denied for value in ids.values())


def test_every_endpoint_refuses_a_missing_or_revoked_key(api):
    ids = _ids(api)
    key_id = api.service.platform.list_keys("acme")[0].id
    api.service.platform.revoke_key("acme", key_id)
    revoked = next(who for who, token in api.keys.items()
                   if api.service.platform.authenticate(token) is None)
    for method, path, body, _ in ENDPOINTS:
        for headers in ({}, api.headers(revoked), {"Authorization": "Bearer mbk_not-a-key"},
                        {"Authorization": "Basic dXNlcjpwYXNz"}):
            response = api.client.request(method, path.format(**ids), json=body, headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["errors"][0]["code"] == "unauthenticated"


def test_another_tenants_ids_answer_404_and_change_nothing(api, advance):
    ids = _ids(api)
    store = api.service.env.store
    store.put_gate(ApprovalGate(build_id=ids["run"], risk_score=80, threshold=50,
                                decision=ApprovalDecision.pending))
    advance(store, ids["run"], "awaiting_approval")
    before = store.get_build(ids["run"])
    audit_before = api.service.platform.list_audit("acme")
    keys_before = api.service.platform.list_keys("acme")
    foreign = [*BY_ID, ("POST", "/api/meta/v2/keys", {"data": {"type": "key", "attributes": {"user_id": "{user}"}}},
                        Action.manage_keys)]
    nowhere = {"spec": "s-nowhere", "run": "b-nowhere", "user": "u-nowhere", "key": "k-nowhere"}
    for method, path, body, _ in foreign:
        response = api.call("globex:owner", method, path.format(**ids), json=_fill(body, ids))
        assert response.status_code == 404, (method, path, response.text)
        # Exactly what an id that exists nowhere answers: nothing of the row, not even its tenant.
        unknown = api.call("globex:owner", method, path.format(**nowhere), json=_fill(body, nowhere))
        assert (response.json()["errors"][0]["code"], response.json()["errors"][0]["title"]) == (
            unknown.json()["errors"][0]["code"], unknown.json()["errors"][0]["title"])
        assert "acme" not in response.text and "library" not in response.text
    assert store.get_build(ids["run"]) == before
    assert store.get_gate(ids["run"]).decision is ApprovalDecision.pending
    assert api.service.platform.list_audit("acme") == audit_before
    assert api.service.platform.list_keys("acme") == keys_before
    # Each try at another tenant's id is audited once, as denied, in the caller's tenant; the ids
    # that exist nowhere are plain 404s.
    denied = sorted((e.target_type, e.target_id, e.outcome) for e in api.service.platform.list_audit("globex"))
    kinds = {"spec": "spec", "run": "run", "key": "key", "user": "user"}
    expected = sorted((kind, ids[name], "denied") for _, path, body, _ in foreign
                      for name, kind in kinds.items() if "{" + name + "}" in path + str(body))
    assert denied == expected
    assert api.service.platform.get_spec("acme", ids["spec"]).plan_json is None


def test_lists_and_stats_show_only_the_callers_tenant(api):
    ids = _ids(api)
    other = api.start_run(api.create_spec("globex:owner"), who="globex:owner")
    mine = api.call("acme:viewer", "GET", "/api/meta/v2/runs").json()
    assert [r["id"] for r in mine["data"]] == [ids["run"]]
    theirs = api.call("globex:owner", "GET", "/api/meta/v2/runs").json()
    assert [r["id"] for r in theirs["data"]] == [other]
    stats = api.call("globex:owner", "GET", "/api/meta/v4/stats").json()["data"]["attributes"]
    assert stats["queued"] == 1 and stats["specs_created"] == 1
    audit = api.call("globex:owner", "GET", "/api/meta/v2/audit").json()["data"]
    assert {entry["attributes"]["tenant"] for entry in audit} == {"globex"}
    # A run-scoped flag on another tenant's run is refused as unknown.
    response = api.call("globex:owner", "PUT", "/api/meta/v4/flags/META_V4_CHAOS_ENABLED",
                        json={"data": {"type": "flag", "attributes": {"scope": "run", "value": True,
                                                                      "run_id": ids["run"]}}})
    assert response.status_code == 404
    assert api.service.platform.flag_values("acme", ids["run"]) == []
