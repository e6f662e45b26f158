"""The probes in the real sandbox, over a small hand-written project shaped like a generated one
(app.main.create_app, tests/conftest.py with client/app/auth fixtures and payload factories)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mb_core.evaluation.probes import pii_cases, probe_files, write_probes
from mb_core.models import (
    EndpointSpec,
    EntitySpec,
    FieldSpec,
    FieldType,
    ScaffoldPlan,
)
from mb_core.quality import OPENAPI_PROBE, PII_PROBE, PROBE_PREFIX, openapi_gate, pii_gate
from mb_core.sandbox import run_tests

PLAN = ScaffoldPlan(
    app_name="people", title="People",
    entities=[
        EntitySpec(name="person", plural="people", fields=[
            FieldSpec(name="name", required=True),
            FieldSpec(name="email", type=FieldType.email, pii=True),
            FieldSpec(name="age", type=FieldType.integer),
        ]),
        EntitySpec(name="tag", plural="tags", fields=[FieldSpec(name="label")]),
    ],
    endpoints=[EndpointSpec(method="POST", path="/people", entity="person", action="create")],
)

MAIN = '''
import json
import logging

from fastapi import FastAPI, Query
from pydantic import BaseModel

logger = logging.getLogger("app.audit")
LEAK = __LEAK__
CRASH = __CRASH__


class PersonIn(BaseModel):
    name: str
    email: str
    age: int | None = None


def create_app():
    app = FastAPI(title="people")
    rows, audit = [], []

    @app.post("/people", status_code=201)
    def create_person(body: PersonIn) -> dict:
        if CRASH and body.age is not None and body.age > 1000:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        row = {"id": len(rows) + 1, **body.model_dump()}
        rows.append(row)
        changes = dict(row) if LEAK else {**row, "email": "[redacted]"}
        audit.append({"entity": "person", "entity_id": row["id"], "changes": changes})
        logger.info("create person %s", json.dumps(changes))
        return row

    @app.get("/audit")
    def list_audit(entity: str | None = Query(None)) -> dict:
        return {"items": [a for a in audit if entity in (None, a["entity"])]}

    return app
'''

CONFTEST = '''
import itertools

import pytest
from fastapi.testclient import TestClient

from app.main import create_app

_n = itertools.count(1)


@pytest.fixture(scope="session")
def app():
    return create_app()


@pytest.fixture(scope="session")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def auth():
    def headers(role="admin"):
        return {"Authorization": "Bearer t"}
    return headers


def payload_person(client, headers, overrides=None):
    n = next(_n)
    return {"name": f"Person {n}", "email": f"person{n}@example.com", **(overrides or {})}
'''


def project(root: Path, leak: bool, crash: bool) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(MAIN.replace("__LEAK__", str(leak)).replace("__CRASH__", str(crash)))
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "conftest.py").write_text(CONFTEST)
    (root / "tests" / "test_app.py").write_text(
        "def test_create(client):\n    assert client.post('/people', json={'name': 'a', 'email': 'b'}).status_code == 201\n")
    return root


def test_probe_files_follow_the_plan():
    assert pii_cases(PLAN) == [("person", "/people", ["email"])]
    assert set(probe_files(PLAN)) == {OPENAPI_PROBE, PII_PROBE}
    no_pii = PLAN.model_copy(update={"entities": PLAN.entities[1:]})
    assert set(probe_files(no_pii)) == {OPENAPI_PROBE}
    # Without planned endpoints the generated application's /<plural> path is used.
    assert pii_cases(PLAN.model_copy(update={"endpoints": []})) == [("person", "/people", ["email"])]


def test_write_probes_needs_the_projects_fixtures(tmp_path):
    assert write_probes(tmp_path, PLAN) == []
    tree = project(tmp_path / "p", leak=False, crash=False)
    assert write_probes(tree, PLAN) == [OPENAPI_PROBE, PII_PROBE]
    compile((tree / OPENAPI_PROBE).read_text(), OPENAPI_PROBE, "exec")
    compile((tree / PII_PROBE).read_text(), PII_PROBE, "exec")


def _probe_results(tree: Path):
    write_probes(tree, PLAN)
    result = run_tests(tree, timeout_s=240)
    assert any(t.nodeid == "tests/test_app.py::test_create" for t in result.tests), result.output[-2000:]
    return [t for t in result.tests if t.nodeid.startswith(PROBE_PREFIX)]


def test_probes_pass_on_a_sound_application(tmp_path):
    probes = _probe_results(project(tmp_path / "p", leak=False, crash=False))
    assert openapi_gate(probes).passed, openapi_gate(probes).summary
    assert pii_gate(PLAN, probes).passed, pii_gate(PLAN, probes).summary


@pytest.mark.parametrize("leak,crash", [(True, True)])
def test_probes_catch_a_server_error_and_a_personal_data_leak(tmp_path, leak, crash):
    probes = _probe_results(project(tmp_path / "p", leak=leak, crash=crash))
    openapi = openapi_gate(probes)
    assert not openapi.passed
    assert "POST /people" in openapi.summary and "too large" in openapi.summary
    pii = pii_gate(PLAN, probes)
    assert not pii.passed
    assert "person.email appears in clear in the logs" in pii.summary
