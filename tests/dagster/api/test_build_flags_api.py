"""A run keeps the flags it was submitted with (run > tenant > platform > environment), shows them,
and a tenant starts no more builds at once than its META_V4_MAX_WORKERS."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from mb_core.lifecycle import BuildEvent
from mb_core.models import BuildStatus
from mb_core.store.platform import PlatformStore, kept_build_flags


def _flag(api, who, key, value, scope="tenant", run_id=""):
    return api.call(who, "PUT", f"/api/meta/v4/flags/{key}",
                    json={"data": {"type": "flag", "attributes": {"scope": scope, "value": value, "run_id": run_id}}})


def _start_admitted(platform) -> list[str]:
    """What the daemon does: the submissions sensor's admitted builds (oldest first), each then
    claimed by its run (submitted -> running) after keeping its flags."""
    store = platform.store
    submitted = sorted(store.list_builds(limit=200, status=BuildStatus.submitted),
                       key=lambda b: (b.created_at, b.id))
    started = []
    for build in platform.admitted(submitted):
        kept_build_flags(store, build.id)
        if store.transition(build.id, BuildEvent.claim, expected={BuildStatus.submitted}):
            started.append(build.id)
    return started


def _flags(document) -> dict[str, tuple]:
    return {f["key"]: (f["value"], f["source"]) for f in document["data"]["attributes"]["flags"]}


def test_a_run_keeps_the_flags_it_was_submitted_with(api, monkeypatch):
    monkeypatch.setenv("META_BUILDER_TOKEN_BUDGET", "50000")  # the platform default, from the SLO setting
    api.service.platform.set_flag("META_V4_CHAOS_ENABLED", True, "platform")
    assert _flag(api, "acme:owner", "META_V4_BUDGET_TOKENS", 1000).status_code == 200
    spec = api.create_spec()
    run = api.start_run(spec)
    other = api.start_run(api.create_spec("globex:owner"), who="globex:owner")
    kept = _flags(api.call("acme:viewer", "GET", f"/api/meta/v2/runs/{run}").json())
    assert kept["META_V4_BUDGET_TOKENS"] == (1000, "tenant")
    assert kept["META_V4_CHAOS_ENABLED"] == (True, "platform")
    assert kept["META_V4_BUDGET_ATTEMPTS"] == (4, "env")
    assert _flags(api.call("globex:owner", "GET", f"/api/meta/v2/runs/{other}").json())[
        "META_V4_BUDGET_TOKENS"] == (50000, "env")
    # The repair ladder's budget is the kept one.
    assert api.service.env.store.get_budget(run).max_tokens == 1000
    # A later tenant change does not move a submitted run: it keeps what it was resolved with.
    assert _flag(api, "acme:owner", "META_V4_BUDGET_TOKENS", 7).status_code == 200
    assert _flags(api.call("acme:viewer", "GET", f"/api/meta/v2/runs/{run}").json())[
        "META_V4_BUDGET_TOKENS"] == (1000, "tenant")


def test_run_flags_are_set_while_the_run_waits_and_refused_once_it_started(api):
    run = api.start_run(api.create_spec())
    assert _flag(api, "acme:owner", "META_V4_BUDGET_ATTEMPTS", 1, scope="run", run_id=run).status_code == 200
    assert _flags(api.call("acme:viewer", "GET", f"/api/meta/v2/runs/{run}").json())[
        "META_V4_BUDGET_ATTEMPTS"] == (1, "run")
    assert api.service.env.store.get_budget(run).max_attempts == 1
    assert _start_admitted(api.service.platform) == [run]
    refused = _flag(api, "acme:owner", "META_V4_BUDGET_ATTEMPTS", 3, scope="run", run_id=run)
    assert refused.status_code == 409 and "fixed when it started" in refused.json()["errors"][0]["detail"]
    assert api.service.env.store.get_budget(run).max_attempts == 1
    entries = api.call("acme:admin", "GET", "/api/meta/v2/audit?action=flag.set").json()["data"]
    assert [e["attributes"]["outcome"] for e in entries] == ["refused", "ok"]


def test_a_tenant_starts_no_more_builds_than_its_max_workers(api, advance):
    assert _flag(api, "acme:owner", "META_V4_MAX_WORKERS", 1).status_code == 200
    acme = [api.start_run(api.create_spec()) for _ in range(3)]
    globex = [api.start_run(api.create_spec("globex:owner"), who="globex:owner") for _ in range(2)]
    platform = api.service.platform
    store = api.service.env.store
    # acme: one at a time; globex: the default two.
    assert _start_admitted(platform) == [acme[0], *globex]
    assert _start_admitted(platform) == []
    assert store.get_build(acme[1]).status is BuildStatus.submitted
    # A build waiting at the gate holds no worker: the next one starts.
    assert store.set_status(acme[0], BuildStatus.awaiting_approval)
    assert _start_admitted(platform) == [acme[1]]
    queued = [s.value for family in text_string_to_metric_families(api.client.get("/metrics").text)
              for s in family.samples if s.name == "meta_builder_queue_depth" and s.labels == {"tenant": "acme"}]
    assert queued == [1]


def test_a_build_submitted_without_the_api_is_resolved_when_first_read(api):
    from mb_core.models import BuildRun

    store = api.service.env.store
    api.service.platform.set_flag("META_V4_MAX_WORKERS", 5, "tenant", tenant="acme")
    store.create_build(BuildRun(id="b-cli-1", tenant="acme", spec_text="Build a todo app", status=BuildStatus.submitted))
    assert PlatformStore(store).build_flags("b-cli-1") is None
    assert _start_admitted(api.service.platform) == ["b-cli-1"]
    kept = PlatformStore(store).build_flags("b-cli-1")
    assert (kept.max_workers, kept.sources["META_V4_MAX_WORKERS"]) == (5, "tenant")
