"""The figures /metrics and /stats report, read from the store on either backend."""

from __future__ import annotations

from mb_core.models import BuildRun, SpecMode
from mb_core.store import observability
from mb_core.store.platform import PlatformStore


def test_counts_per_tenant_from_api_specs_and_cli_builds(store, add_build):
    platform = PlatformStore(store)
    owner = platform.create_principal("acme", "ana", "owner")
    spec = platform.create_spec("acme", "Build a library", SpecMode.freeform, owner.id)
    platform.record_plan("acme", spec.id, "{}", owner.id)
    platform.submit_run("acme", spec.id, BuildRun(id="b-api", tenant="acme", spec_text="x"), owner.id)
    add_build("b-cli", tenant="acme", status="running")
    # Finished builds get there along the lifecycle, as their drivers move them.
    add_build("b-done", tenant="globex", status="running")
    for status in ("approved", "releasing", "released"):
        assert store.set_status("b-done", status)
    add_build("b-broke", tenant="globex", status="running")
    assert store.set_status("b-broke", "failed", error="budget exceeded: tokens 5000 > 4000")
    store.start_step("b-cli", "plan")
    store.finish_step("b-cli", "plan", "succeeded")

    counts = observability.tenant_counts(store)
    acme, globex = counts["acme"], counts["globex"]
    # acme: one API spec, plus the CLI build that carried its own; one API plan, one plan step.
    assert (acme.specs_created, acme.plans_generated, acme.queued, acme.runs_started) == (2, 2, 1, 1)
    assert (globex.specs_created, globex.runs_started, globex.runs_succeeded, globex.runs_failed) == (2, 2, 1, 1)
    assert observability.tenant_counts(store, "globex").keys() == {"globex"}
    assert observability.retries_and_budget_exceedances(store)[1] == 1


def test_latency_per_role_and_empty_healing_views(store, add_build):
    add_build("b1")
    for latency in (0.5, 1.5):
        store.record_exchange("b1", "security", f"k{latency}", {"q": 1}, {"a": 1}, 1, 1, 0.0, latency,
                              "offline", "rules")
    assert observability.agent_latency(store) == {"security": (2, 2.0)}
    # Nothing healed or injected yet: empty, whether or not the healing tables exist.
    assert observability.repair_attempts(store, "b1") == []
    assert observability.chaos_summary(store, tenant="default").events == 0
