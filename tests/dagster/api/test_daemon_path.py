"""A run started through the API is what the submissions sensor builds; /metrics and the v4
documents read the store, so they count what other processes did."""

from __future__ import annotations

from dagster import build_sensor_context
from prometheus_client.parser import text_string_to_metric_families

from mb_core.models import BuildStatus
from mb_core.scheduling import run_tags_for
from mb_dagster.build.sensors import submissions_sensor
from mb_dagster.resources import MetaBuilderResource


def _samples(api) -> dict[tuple[str, tuple], float]:
    response = api.client.get("/metrics")
    assert response.status_code == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def test_the_submissions_sensor_picks_up_a_run_started_through_the_api(api):
    spec_id = api.create_spec()
    run_id = api.start_run(spec_id)
    instance = api.service.instance()
    result = submissions_sensor(build_sensor_context(instance=instance, resources={"mb": MetaBuilderResource()}))
    assert [(r.partition_key, r.run_key, r.tags["mb/tenant"]) for r in result.run_requests] == [
        (run_id, f"build:{run_id}:1", "acme")]
    # The sensor only reads: the run it asks for claims the build in its first step.
    assert api.service.env.store.get_build(run_id).status is BuildStatus.submitted
    document = api.call("acme:viewer", "GET", f"/api/meta/v2/runs/{run_id}").json()["data"]
    assert document["attributes"]["status"] == "submitted"
    assert document["attributes"]["spec_id"] == spec_id
    assert document["links"]["spec"] == f"/api/meta/v2/specs/{spec_id}"
    timeline = api.call("acme:viewer", "GET", f"/api/meta/v4/runs/{run_id}/timeline").json()
    assert [(e["attributes"]["kind"], e["attributes"]["name"]) for e in timeline["data"]] == [
        ("submitted", "run"), ("audit", "run.start")]


def _sensor_tags(api) -> dict[str, dict[str, str]]:
    instance = api.service.instance()
    result = submissions_sensor(build_sensor_context(instance=instance, resources={"mb": MetaBuilderResource()}))
    return {r.partition_key: r.tags for r in result.run_requests}


def test_a_run_started_with_a_tier_gets_its_queue_and_priority_from_the_one_scheduling_function(api):
    spec_id = api.create_spec()
    response = api.call("acme:owner", "POST", f"/api/meta/v2/specs/{spec_id}/runs",
                        json={"data": {"type": "run", "attributes": {"sla": "fast"}}})
    assert response.status_code == 202, response.text
    fast = response.json()["data"]
    assert fast["attributes"]["sla"] == "fast"
    default = api.start_run(spec_id)  # no body: MB_SLA, normal here
    store = api.service.env.store
    tags = _sensor_tags(api)
    for run_id in (fast["id"], default):
        build = store.get_build(run_id)
        assert {k: tags[run_id][k] for k in ("mb/queue", "dagster/priority", "mb/sla")} == run_tags_for(build)
    assert (tags[fast["id"]]["mb/queue"], tags[fast["id"]]["dagster/priority"]) == ("high", "10")
    assert (tags[default]["mb/queue"], tags[default]["dagster/priority"]) == ("cpu", "0")
    assert store.get_build(default).sla == "normal"


def test_an_unknown_tier_or_a_spent_tenant_budget_is_refused_before_anything_is_written(api, monkeypatch):
    spec_id = api.create_spec()
    store = api.service.env.store
    before = len(store.list_builds(limit=100))
    response = api.call("acme:owner", "POST", f"/api/meta/v2/specs/{spec_id}/runs",
                        json={"data": {"type": "run", "attributes": {"sla": "urgent"}}})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_input" and "sla" in error["detail"] and "fast" in error["detail"]
    assert error["source"]["pointer"] == "/body/data/attributes/sla"
    monkeypatch.setenv("MB_TENANT_BUDGET_CALLS", "0")
    response = api.call("acme:owner", "POST", f"/api/meta/v2/specs/{spec_id}/runs")
    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert "not queued: tenant acme has spent its call budget" in error["detail"]
    assert len(store.list_builds(limit=100)) == before


def test_metrics_come_from_the_store_whoever_wrote_it(api, advance):
    spec_id = api.create_spec()
    assert api.call("acme:member", "POST", f"/api/meta/v2/specs/{spec_id}/plan").status_code == 200
    started, released = api.start_run(spec_id), api.start_run(spec_id)
    before = _samples(api)
    acme = (("tenant", "acme"),)
    assert before[("meta_builder_specs_created_total", acme)] == 1
    assert before[("meta_builder_plans_generated_total", acme)] == 1
    assert before[("meta_builder_queue_depth", acme)] == 2
    # Another process moves the builds on (as a run worker would): only the store knows.
    store = api.service.env.store
    store.set_status(started, BuildStatus.failed, error="tenant budget exceeded: tokens")
    advance(store, released, "released")
    store.record_exchange(released, "product_architect", "k1", {"q": 1}, {"a": 1}, 10, 5, 0.0, 0.25,
                          "offline", "rules")
    after = _samples(api)
    assert after[("meta_builder_runs_started_total", acme)] == 2
    assert after[("meta_builder_runs_succeeded_total", acme)] == 1
    assert after[("meta_builder_runs_failed_total", acme)] == 1
    assert after[("meta_builder_queue_depth", acme)] == 0
    assert after[("meta_builder_budget_exceeded_total", ())] == 1
    assert after[("meta_builder_agent_latency_seconds_count", (("role", "product_architect"),))] == 1
    assert after[("meta_builder_agent_latency_seconds_sum", (("role", "product_architect"),))] == 0.25


def test_circuit_breakers_list_every_class_in_the_state_the_ladder_sees(api):
    from mb_core.breakers import BREAKER_NAMES, BreakerSettings, record_outcome

    empty = api.call("acme:viewer", "GET", "/api/meta/v4/circuit-breakers").json()
    assert empty["meta"] == {"open": 0, "count": len(BREAKER_NAMES)}
    assert {b["id"] for b in empty["data"]} == BREAKER_NAMES
    assert {b["attributes"]["state"] for b in empty["data"]} == {"closed"}
    store = api.service.env.store
    for _ in range(BreakerSettings.from_env().fail_max):  # failures in a row open it
        record_outcome(store, "llm_transient", succeeded=False)
    document = api.call("acme:viewer", "GET", "/api/meta/v4/circuit-breakers").json()
    assert document["meta"] == {"open": 1, "count": len(BREAKER_NAMES)}
    opened = next(b["attributes"] for b in document["data"] if b["id"] == "llm_transient")
    assert opened["state"] == "open" and opened["failures"] == BreakerSettings.from_env().fail_max
    assert opened["reopens_at"] is not None
    samples = _samples(api)
    assert samples[("meta_builder_circuit_breaker_state", (("breaker", "llm_transient"),))] == 2
    chaos = api.call("acme:viewer", "GET", "/api/meta/v4/chaos/stats").json()["data"]["attributes"]
    assert chaos["events"] == 0 and chaos["enabled"] is False
    canary = api.call("acme:viewer", "GET", "/api/meta/v4/canary/stats").json()
    assert canary["meta"]["available"] is False and canary["data"]["attributes"]["samples"] == 0


def test_readiness_reports_the_store_and_the_dagster_instance(api):
    response = api.client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["data"]["attributes"]["checks"]
    assert checks["store"]["ok"] and checks["dagster"]["ok"] and "redis" not in checks
