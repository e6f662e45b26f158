"""Prometheus metrics computed from the store at scrape time, so builds that ran in Dagster's run
workers (other processes) count the same as anything this process did."""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector

from mb_core.breakers import breaker_views
from mb_core.store import Store, observability

BREAKER_STATE = {"closed": 0, "half_open": 1, "open": 2}


class StoreCollector(Collector):
    def __init__(self, store: Store):
        self.store = store

    def collect(self):
        counts = observability.tenant_counts(self.store)
        v2 = {
            "specs_created": "Specs handed in (API specs and builds submitted with their own text).",
            "plans_generated": "Plans generated (API plans and build plan steps).",
            "runs_started": "Builds that started.",
            "runs_succeeded": "Builds released.",
            "runs_failed": "Builds failed, rolled back or rejected.",
            "autofix_iterations": "Auto-fix (patch) repair attempts.",
        }
        for field, help_text in v2.items():
            family = CounterMetricFamily(f"meta_builder_{field}", help_text, labels=["tenant"])
            for tenant, entry in sorted(counts.items()):
                family.add_metric([tenant], getattr(entry, field))
            yield family

        queue = GaugeMetricFamily("meta_builder_queue_depth", "Builds submitted, not yet started.",
                                  labels=["tenant"])
        for tenant, entry in sorted(counts.items()):
            queue.add_metric([tenant], entry.queued)
        yield queue

        latency = SummaryMetricFamily("meta_builder_agent_latency_seconds", "Agent call latency per role.",
                                      labels=["role"])
        for role, (calls, total) in observability.agent_latency(self.store).items():
            latency.add_metric([role], count_value=calls, sum_value=total)
        yield latency

        retries, exceeded = observability.retries_and_budget_exceedances(self.store)
        yield CounterMetricFamily("meta_builder_retries", "Repair attempts in the retry phase.", value=retries)
        yield CounterMetricFamily("meta_builder_budget_exceeded", "Builds stopped by a budget.", value=exceeded)

        breakers = GaugeMetricFamily("meta_builder_circuit_breaker_state",
                                     "Circuit breaker state (0 closed, 1 half-open, 2 open).", labels=["breaker"])
        for breaker in breaker_views(self.store):
            breakers.add_metric([breaker.name], BREAKER_STATE[breaker.state.value])
        yield breakers

        chaos = observability.chaos_summary(self.store)
        chaos_events = CounterMetricFamily("meta_builder_chaos_events", "Faults injected, by outcome.",
                                           labels=["outcome"])
        for outcome in ("recovered", "unrecovered", "pending"):
            chaos_events.add_metric([outcome], getattr(chaos, outcome))
        yield chaos_events
        from datetime import UTC, datetime

        from mb_core.scheduling.observed import sla_violation_counts

        sla = CounterMetricFamily("meta_builder_sla_violations",
                                  "Builds that missed their SLA tier's target, by tier and measure.",
                                  labels=["tier", "measure"])
        for (tier, measure), count in sorted(sla_violation_counts(self.store, datetime.now(UTC)).items()):
            sla.add_metric([tier, measure], count)
        yield sla
        yield from canary_metrics(self.store)


RECOMMENDATIONS = ("promote", "continue", "roll_back")


def canary_metrics(store: Store):
    """Samples and success rate per tenant and variant; each tenant's latest recommendation (and
    every tenant's together, tenant "") as a one-hot gauge."""
    from mb_core.store.canary import CanaryStore

    canary = CanaryStore(store)
    counts = canary.sample_counts()
    samples = CounterMetricFamily("meta_builder_canary_samples", "Canary samples of finished builds.",
                                  labels=["tenant", "variant"])
    rate = GaugeMetricFamily("meta_builder_canary_success_rate", "Share of canary samples that succeeded.",
                             labels=["tenant", "variant"])
    for (tenant, variant), (n, ok) in sorted(counts.items()):
        samples.add_metric([tenant, variant], n)
        rate.add_metric([tenant, variant], ok / n if n else 0.0)
    yield samples
    yield rate
    recommendation = GaugeMetricFamily(
        "meta_builder_canary_recommendation", "The latest canary report's recommendation (1 for the one it makes).",
        labels=["tenant", "recommendation"])
    for tenant in ["", *canary.sample_tenants()]:
        report = canary.latest_report(tenant)
        if report is None:
            continue
        for option in RECOMMENDATIONS:
            recommendation.add_metric([tenant, option], 1.0 if report.recommendation == option else 0.0)
    yield recommendation
