"""API keys through the API (owners and admins, audited once each), and the gate's real reviewer."""

from __future__ import annotations

from mb_core.models import ApprovalDecision, ApprovalGate


def _key_body(user_id: str) -> dict:
    return {"data": {"type": "key", "attributes": {"user_id": user_id}}}


def test_an_admin_creates_and_revokes_a_key_and_each_change_is_audited_once(api):
    viewer = api.users["acme:viewer"]
    created = api.call("acme:admin", "POST", "/api/meta/v2/keys", json=_key_body(viewer))
    assert created.status_code == 201, created.text
    key = created.json()["data"]
    token = key["attributes"]["token"]
    assert token.startswith("mbk_") and key["attributes"]["user_id"] == viewer
    # The new key works, and the list never shows a token again.
    assert api.client.get("/api/meta/v2/runs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = api.call("acme:owner", "GET", "/api/meta/v2/keys").json()["data"]
    assert key["id"] in {k["id"] for k in listed} and all(k["attributes"]["token"] is None for k in listed)

    revoked = api.call("acme:admin", "POST", f"/api/meta/v2/keys/{key['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["data"]["attributes"]["revoked_at"]
    assert api.client.get("/api/meta/v2/runs", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    again = api.call("acme:admin", "POST", f"/api/meta/v2/keys/{key['id']}/revoke")
    assert again.status_code == 409

    entries = [(e.action, e.target_id, e.outcome) for e in reversed(api.service.platform.list_audit("acme"))
               if e.action.startswith("key.")]
    assert entries == [("key.create", key["id"], "ok"), ("key.revoke", key["id"], "ok"),
                       ("key.revoke", key["id"], "refused")]
    assert token not in str(api.service.platform.list_audit("acme"))


def test_only_an_owner_handles_an_owners_keys(api):
    owner = api.users["acme:owner"]
    before = api.service.platform.list_keys("acme")
    refused = api.call("acme:admin", "POST", "/api/meta/v2/keys", json=_key_body(owner))
    assert refused.status_code == 403 and "owner's key" in refused.json()["errors"][0]["detail"]
    owners_key = next(k for k in before if k.principal_id == owner)
    assert api.call("acme:admin", "POST", f"/api/meta/v2/keys/{owners_key.id}/revoke").status_code == 403
    assert api.service.platform.list_keys("acme") == before
    denied = [(e.action, e.outcome) for e in api.service.platform.list_audit("acme")]
    assert denied == [("key.revoke", "denied"), ("key.create", "denied")]
    assert api.call("acme:owner", "POST", "/api/meta/v2/keys", json=_key_body(owner)).status_code == 201


def test_a_members_refusal_and_a_bad_body_write_no_key(api):
    before = api.service.platform.list_keys("acme")
    assert api.call("acme:member", "POST", "/api/meta/v2/keys",
                    json=_key_body(api.users["acme:viewer"])).status_code == 403
    assert api.call("acme:owner", "POST", "/api/meta/v2/keys",
                    json={"data": {"type": "key", "attributes": {"user_id": ""}}}).status_code == 422
    assert api.call("acme:owner", "POST", "/api/meta/v2/keys", json=_key_body("u-nowhere")).status_code == 404
    assert api.service.platform.list_keys("acme") == before


def test_the_gate_records_the_reviewer_who_called(api, advance):
    run = api.start_run(api.create_spec())
    store = api.service.env.store
    store.put_gate(ApprovalGate(build_id=run, risk_score=80, threshold=50, decision=ApprovalDecision.pending))
    advance(store, run, "awaiting_approval")
    response = api.call("acme:admin", "POST", f"/api/meta/v2/runs/{run}/approve",
                        json={"data": {"type": "decision", "attributes": {"reason": "read the diff"}}})
    assert response.status_code == 200, response.text
    gate = store.get_gate(run)
    assert gate.decided_by == f"admin-acme ({api.users['acme:admin']})" and gate.reason == "read the diff"
    assert response.json()["data"]["attributes"]["gate"]["decided_by"] == gate.decided_by
    assert [(e.action, e.actor) for e in api.service.platform.list_audit("acme", action="run.approve")] == [
        ("run.approve", api.users["acme:admin"])]
