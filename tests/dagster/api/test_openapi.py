"""schemathesis against the service's own OpenAPI document, authenticated: no server error, and
every response conforms to the schema it documents."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error, response_schema_conformance

EXAMPLES = 8


def test_the_openapi_document_is_valid(api):
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    validate(response.json())


def test_generated_requests_cause_no_server_error_and_conform(api):
    spec_id = api.create_spec()
    run_id = api.start_run(spec_id)
    app = api.client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = api.headers("acme:owner")
    failures, operations, seen = [], 0, []
    for loaded in schema.get_all_operations():
        operation = loaded.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def call(case):
            # Half the time the real ids, so the happy paths are reached too.
            for name in ("spec_id", "run_id"):
                if case.path_parameters and name in case.path_parameters and hash(str(case.path_parameters)) % 2:
                    case.path_parameters[name] = spec_id if name == "spec_id" else run_id
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
            seen.append((case.path, response.status_code))

        try:
            call()
        except Exception as exc:  # noqa: BLE001 - one operation's failure must not hide the others'
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            failures.append(f"{operation.method.upper()} {operation.path}: {first[:300]}")
    assert operations >= 21
    # The happy paths were reached, not only the refusals.
    assert {status for _, status in seen} & {200, 201, 202}, seen
    assert not failures, f"{len(failures)} of {operations} operations failed: " + "; ".join(failures)
