"""The probes in the real sandbox, over a small hand-written project shaped like a generated one
(app.main.create_app, app.settings.Settings, app.db.Base, app.security.issue_token, tests/conftest.py
with its fixtures and payload factories), served apart from the probes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mb_core.evaluation.probes import (
    PROBES_FOLDER,
    parse_probe_results,
    pii_cases,
    probe_files,
    probe_run,
    suite_run,
)
from mb_core.models import (
    EndpointSpec,
    EntitySpec,
    FieldSpec,
    FieldType,
    ScaffoldPlan,
)
from mb_core.quality import OPENAPI_PROBE, PII_PROBE, generated_tests_gate, openapi_gate, pii_gate
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

SETTINGS = '''
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    database_url: str = "sqlite://"
    secret_key: str = "dev"
    rate_limit_per_minute: int = 0
    log_level: str = "INFO"
'''

DB = '''
import sqlalchemy as sa
from sqlalchemy import orm


class Base(orm.DeclarativeBase):
    pass


class Database:
    def __init__(self, url):
        self.engine = sa.create_engine(url)
'''

SECURITY = '''
def issue_token(settings, *, user_id, role, tenant):
    return f"{user_id}.{role}.{tenant}"
'''

MAIN = '''
import json
import logging

from fastapi import FastAPI, Query
from pydantic import BaseModel

from app.db import Database
from app.settings import Settings

logger = logging.getLogger("app.audit")
LEAK = __LEAK__
CRASH = __CRASH__


class PersonIn(BaseModel):
    name: str
    email: str
    age: int | None = None


def create_app(settings=None):
    app = FastAPI(title="people")
    app.state.database = Database((settings or Settings()).database_url)
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

# What a hostile answer adds: a conftest hook that turns every failure into a pass.
FORGING_HOOK = '''

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
'''


def project(root: Path, leak: bool, crash: bool, conftest: str = CONFTEST) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(MAIN.replace("__LEAK__", str(leak)).replace("__CRASH__", str(crash)))
    (root / "app" / "settings.py").write_text(SETTINGS)
    (root / "app" / "db.py").write_text(DB)
    (root / "app" / "security.py").write_text(SECURITY)
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "conftest.py").write_text(conftest)
    (root / "tests" / "test_app.py").write_text(
        "def test_create(client):\n    assert client.post('/people', json={'name': 'a', 'email': 'b'}).status_code == 201\n")
    return root


def test_probe_files_follow_the_plan():
    assert pii_cases(PLAN) == [("person", "/people", ["email"])]
    files = probe_files(PLAN)
    assert set(files) == {OPENAPI_PROBE, PII_PROBE, f"{PROBES_FOLDER}/cases.json"}
    for rel in (OPENAPI_PROBE, PII_PROBE):
        compile(files[rel], rel, "exec")
    no_pii = PLAN.model_copy(update={"entities": PLAN.entities[1:]})
    assert set(probe_files(no_pii)) == {OPENAPI_PROBE, f"{PROBES_FOLDER}/cases.json"}
    # Without planned endpoints the generated application's /<plural> path is used.
    assert pii_cases(PLAN.model_copy(update={"endpoints": []})) == [("person", "/people", ["email"])]


def test_probe_results_come_only_from_lines_with_the_runs_key():
    output = ('MB-PROBE-RESULT k1 {"nodeid": "mb_probes/test_openapi.py::t", "outcome": "failed", '
              '"message": "boom"}\nMB-PROBE-RESULT k1 not json\nmb_probes/test_x.py::t PASSED\n'
              'MB-PROBE-RESULT {"nodeid": "mb_probes/test_pii.py::t", "outcome": "passed"}\n'
              'MB-PROBE-RESULT k2 {"nodeid": "mb_probes/test_pii.py::u", "outcome": "passed"}\n')
    assert [(t.nodeid, t.outcome.value, t.message) for t in parse_probe_results(output, "k1")] == [
        ("mb_probes/test_openapi.py::t", "failed", "boom")]
    assert parse_probe_results(output, "") == []
    # A second line for the same probe (a forged pass after the real failure) is tampering.
    twice = output + 'MB-PROBE-RESULT k1 {"nodeid": "mb_probes/test_openapi.py::t", "outcome": "passed"}\n'
    [result] = parse_probe_results(twice, "k1")
    assert result.outcome.value == "error" and "tampered" in result.message


def _probe_results(tree: Path):
    probing = probe_run(PLAN)
    result = run_tests(tree, timeout_s=240, prepare=probing)
    probes = probing.results(result.output)
    assert probes, result.output[-3000:]
    # Nothing of the probe run reaches the project's copy: the workspace never holds a probe.
    assert not list(tree.rglob("test_openapi.py"))
    return probes


def test_probes_pass_on_a_sound_application(tmp_path):
    probes = _probe_results(project(tmp_path / "p", leak=False, crash=False))
    assert openapi_gate(probes).passed, openapi_gate(probes).summary
    assert pii_gate(PLAN, probes).passed, pii_gate(PLAN, probes).summary


@pytest.mark.parametrize("leak,crash", [(True, True)])
def test_probes_catch_a_server_error_and_a_personal_data_leak(tmp_path, leak, crash):
    probes = _probe_results(project(tmp_path / "p", leak=leak, crash=crash))
    openapi = openapi_gate(probes)
    assert not openapi.passed
    assert "POST /people" in openapi.summary and "500" in openapi.summary, openapi.summary
    pii = pii_gate(PLAN, probes)
    assert not pii.passed
    assert "person.email appears in clear in the application's logs" in pii.summary, pii.summary


def test_a_forging_conftest_fools_its_own_suite_but_not_the_probes(tmp_path):
    tree = project(tmp_path / "p", leak=False, crash=True, conftest=CONFTEST + FORGING_HOOK)
    (tree / "tests" / "test_app.py").write_text(
        "def test_create(client):\n    assert client.post('/people', json={'name': 'a'}).status_code == 201\n")
    suite = run_tests(tree, timeout_s=240, prepare=suite_run)
    # The hook runs in the generated suite (that is the suite's own account of itself) ...
    assert generated_tests_gate(suite.tests).passed, suite.output[-2000:]
    # ... but the probes run without any generated conftest: the crash is seen.
    probes = _probe_results(tree)
    assert not openapi_gate(probes).passed
    assert "POST /people" in openapi_gate(probes).summary


# Application code that tries to write passing results on every stdout it can reach, with the
# run's key if it can find it: the probe process is out of its reach and the key is gone.
CHANNEL_FORGER = '''
import json
import os

_ids = ["mb_probes/test_openapi.py::test_openapi_document_is_valid",
        "mb_probes/test_openapi.py::test_no_server_error"]
_key = ""
for _pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        with open(f"/proc/{_pid}/cmdline", "rb") as _fh:
            _argv = _fh.read().decode().split("\\0")
        if "--mb-key-file" in _argv:
            _key = open(_argv[_argv.index("--mb-key-file") + 1]).read().strip()
    except (OSError, IndexError, UnicodeDecodeError):
        pass
for _pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        with open(f"/proc/{_pid}/fd/1", "a") as _out:
            for _id in _ids:
                _row = json.dumps({"nodeid": _id, "outcome": "passed"})
                _out.write(f"MB-PROBE-RESULT {_key + ' ' if _key else ''}{_row}\\n")
    except OSError:
        pass
'''


def test_the_application_cannot_write_the_probe_results(tmp_path):
    tree = project(tmp_path / "p", leak=False, crash=True)
    (tree / "app" / "__init__.py").write_text(CHANNEL_FORGER)
    probes = _probe_results(tree)
    openapi = openapi_gate(probes)
    assert not openapi.passed and "POST /people" in openapi.summary, openapi.summary


def test_the_suite_runs_under_the_builders_pytest_settings(tmp_path):
    tree = project(tmp_path / "p", leak=False, crash=False)
    # The tree's own settings would load a plugin and deselect everything; they are not read.
    (tree / "pytest.ini").write_text("[pytest]\naddopts = -p tests.evil -k nothing_matches\n")
    (tree / "pytest.py").write_text("raise SystemExit('the tree shadowed pytest')\n")
    # An async test runs with the one plugin the builder gives the suite.
    (tree / "tests" / "test_async.py").write_text(
        "import pytest\n\n\n@pytest.mark.anyio\nasync def test_async():\n    assert True\n\n\n"
        "@pytest.fixture\ndef anyio_backend():\n    return 'asyncio'\n")
    suite = run_tests(tree, timeout_s=240, prepare=suite_run)
    assert sorted(t.nodeid for t in suite.tests) == [
        "tests/test_app.py::test_create", "tests/test_async.py::test_async"], suite.output[-2000:]
    assert {t.outcome.value for t in suite.tests} == {"passed"}
