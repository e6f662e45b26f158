"""A real service over a real store (SQLite under the test's own MB_HOME) and a real Dagster
instance; two tenants, a user of every role in the first, an owner in the second."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from mb_core.pipeline import BuildEnvironment
from mb_core.platform.ratelimit import TenantRateLimiter
from mb_core.platform.roles import Role
from mb_core.settings import Settings
from mb_dagster.api.app import create_app
from mb_dagster.api.service import Service

SPEC_TEXT = "Build a library system where members borrow books and librarians record returns."


@dataclass
class Api:
    client: TestClient
    service: Service
    keys: dict[str, str]  # "acme:owner" -> token
    users: dict[str, str]  # "acme:owner" -> principal id

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def call(self, who: str | None, method: str, path: str, **kwargs):
        headers = self.headers(who) if who else {}
        return self.client.request(method, path, headers=headers, **kwargs)

    def create_spec(self, who: str = "acme:owner", text: str = SPEC_TEXT) -> str:
        response = self.call(who, "POST", "/api/meta/v2/specs",
                             json={"data": {"type": "spec", "attributes": {"text": text}}})
        assert response.status_code == 201, response.text
        return response.json()["data"]["id"]

    def start_run(self, spec_id: str, who: str = "acme:owner") -> str:
        response = self.call(who, "POST", f"/api/meta/v2/specs/{spec_id}/runs")
        assert response.status_code == 202, response.text
        return response.json()["data"]["id"]


# The lifecycle paths the tests put submitted builds on, one legal step at a time.
PATHS = {
    "awaiting_approval": ("running", "awaiting_approval"),
    "released": ("running", "approved", "releasing", "released"),
}


@pytest.fixture
def advance():
    """Move a submitted build to a status along the lifecycle, as its drivers would."""

    def _advance(store, build_id: str, target: str) -> None:
        for status in PATHS[target]:
            assert store.set_status(build_id, status), (build_id, status)

    return _advance


def make_service(limiter: TenantRateLimiter | None = None) -> Service:
    env = BuildEnvironment.open(Settings.from_env())
    return Service(env=env, limiter=limiter or TenantRateLimiter("memory://"))


def seed(service: Service) -> tuple[dict[str, str], dict[str, str]]:
    keys, users = {}, {}
    for tenant, roles in (("acme", list(Role)), ("globex", [Role.owner])):
        for role in roles:
            principal = service.platform.create_principal(tenant, f"{role.value}-{tenant}", role)
            keys[f"{tenant}:{role.value}"] = service.platform.issue_key(tenant, principal.id).token
            users[f"{tenant}:{role.value}"] = principal.id
    return keys, users


@pytest.fixture
def open_api(mb_home):
    """Opens a seeded service (with the given rate limiter) and its client; closed at the end."""
    opened = []

    def _open(limiter: TenantRateLimiter | None = None) -> Api:
        service = make_service(limiter)
        keys, users = seed(service)
        client = TestClient(create_app(service))
        client.__enter__()
        opened.append((client, service))
        return Api(client=client, service=service, keys=keys, users=users)

    yield _open
    for client, service in opened:
        client.__exit__(None, None, None)
        service.env.store.dispose()


@pytest.fixture
def api(open_api):
    return open_api()
