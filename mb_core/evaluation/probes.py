"""The builder's probe tests: written into the sandbox's scratch copy of a generated project, never
into the workspace or the artifact.

They lean on the project's own test fixtures (`client`, `auth`, `app`, the `payload_<entity>`
factories of tests/conftest.py), so a probe exercises the application exactly as its tests do.
"""

from __future__ import annotations

from pathlib import Path

from mb_core.models import ScaffoldPlan
from mb_core.quality import OPENAPI_PROBE, PII_PROBE, pii_fields

# Examples per API operation: enough to meet each operation's validation paths, small enough
# that the whole probe stays within a few seconds on two cores.
SCHEMATHESIS_EXAMPLES = 4

OPENAPI_SOURCE = '''"""Probe: the OpenAPI document is valid and generated requests cause no server error."""

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error, response_schema_conformance

EXAMPLES = __EXAMPLES__


def test_openapi_document_is_valid(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
    validate(response.json())


def test_no_server_error(app, auth):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = auth()
    failures = []
    operations = 0
    for loaded in schema.get_all_operations():
        operation = loaded.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def call(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        try:
            call()
        except Exception as exc:  # one operation's failure must not hide the others'
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            failures.append(f"{operation.method.upper()} {operation.path}: {first[:200]}")
    assert operations, "the OpenAPI document lists no operation"
    assert not failures, f"{len(failures)} of {operations} operations failed: " + "; ".join(failures)
'''


PII_SOURCE = '''"""Probe: personal data sent to the API never appears in clear in the logs or the audit log."""

import logging

import pytest

from tests import conftest

CASES = __CASES__


@pytest.mark.parametrize("entity,path,fields", CASES)
def test_personal_data_stays_out_of_logs_and_audit(client, auth, caplog, capsys, entity, path, fields):
    payload = getattr(conftest, f"payload_{entity}")(client, auth())
    values = {f: str(payload[f]) for f in fields if payload.get(f) not in (None, "")}
    assert values, f"the sample {entity} holds none of its personal data fields {fields}"
    with caplog.at_level(logging.DEBUG):
        created = client.post(path, json=payload, headers=auth())
        assert created.status_code == 201, created.text
        row_id = created.json()["id"]
        audit = client.get("/audit", params={"entity": entity}, headers=auth())
    assert audit.status_code == 200, f"the audit log cannot be read: {audit.status_code}"
    entries = [e for e in audit.json()["items"] if e.get("entity_id") == row_id]
    assert entries, f"creating a {entity} wrote no audit entry"
    printed = capsys.readouterr()
    for field, value in values.items():
        assert value not in caplog.text, f"{entity}.{field} appears in clear in the logs"
        assert value not in str(entries), f"{entity}.{field} appears in clear in the audit log"
        assert value not in printed.out + printed.err, f"{entity}.{field} is printed in clear"
'''


def openapi_probe() -> str:
    return OPENAPI_SOURCE.replace("__EXAMPLES__", str(SCHEMATHESIS_EXAMPLES))


def pii_cases(plan: ScaffoldPlan) -> list[tuple[str, str, list[str]]]:
    """(entity, create path, personal data fields) for every entity holding personal data."""
    create_paths = {ep.entity: ep.path for ep in plan.endpoints
                    if ep.method == "POST" and ep.action == "create" and ep.entity}
    plurals = {e.name: e.plural for e in plan.entities}
    # Without planned endpoints, the generated application serves each entity at /<plural>.
    return [(entity, create_paths.get(entity, f"/{plurals[entity]}"), fields)
            for entity, fields in pii_fields(plan).items()]


def pii_probe(plan: ScaffoldPlan) -> str | None:
    cases = pii_cases(plan)
    return PII_SOURCE.replace("__CASES__", repr(cases)) if cases else None


def probe_files(plan: ScaffoldPlan | None) -> dict[str, str]:
    """Repository path -> source of every probe that applies to this plan."""
    files = {OPENAPI_PROBE: openapi_probe()}
    pii = pii_probe(plan) if plan is not None else None
    if pii:
        files[PII_PROBE] = pii
    return files


def write_probes(tree: Path, plan: ScaffoldPlan | None) -> list[str]:
    """Writes the probes into a scratch tree (only where the project has tests to lean on)."""
    if not (Path(tree) / "tests" / "conftest.py").is_file():
        return []
    written = []
    for rel, source in probe_files(plan).items():
        (Path(tree) / rel).write_text(source, encoding="utf-8")
        written.append(rel)
    return written
