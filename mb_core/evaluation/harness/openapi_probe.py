"""Probe: the OpenAPI document is valid and generated requests cause no server error."""

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error, response_schema_conformance

EXAMPLES = 4  # per operation: meets each one's validation paths, keeps the probe to seconds


def describe(exc: BaseException) -> str:
    """One line for a failed operation: schemathesis raises its failures in exception groups."""
    while getattr(exc, "exceptions", None):
        exc = exc.exceptions[0]
    title = getattr(exc, "title", None) or type(exc).__name__
    status = getattr(exc, "status_code", None)
    detail = (str(getattr(exc, "message", "") or "").strip().splitlines() or [""])[0]
    return " ".join(part for part in (title, f"(status {status})" if status else "", detail) if part)


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
        # One operation's failure, whatever it raises, must not hide the others'.
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001
            failures.append(f"{operation.method.upper()} {operation.path}: {describe(exc)[:200]}")
    assert operations, "the OpenAPI document lists no operation"
    assert not failures, f"{len(failures)} of {operations} operations failed: " + "; ".join(failures)
