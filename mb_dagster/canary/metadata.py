"""The canary's run-panel metadata: the report's tables, summary and chart, and a build's variant."""

from __future__ import annotations

from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

from mb_core.canary.models import CanaryReport
from mb_core.canary.report import chart_markdown, summary_markdown
from mb_core.canary.variants import Variant

VARIANT_SCHEMA = TableSchema(columns=[
    TableColumn("variant", "string"), TableColumn("samples", "int"), TableColumn("successes", "int"),
    TableColumn("success_rate", "float"), TableColumn("median_duration_s", "float"),
    TableColumn("median_cost_usd", "float"), TableColumn("median_tokens", "float"),
    TableColumn("median_iterations", "float"),
])
TENANT_SCHEMA = TableSchema(columns=[
    TableColumn("tenant", "string"), TableColumn("samples", "int"), TableColumn("recommendation", "string"),
    TableColumn("regression", "bool"),
])


def _value(x):
    return -1.0 if x is None else float(x)


def report_metadata(report: CanaryReport, per_tenant: list[CanaryReport]) -> dict:
    variants = [report.variants[v.value] for v in Variant]
    return {
        "recommendation": MetadataValue.text(report.recommendation),
        "regression": MetadataValue.bool(report.regression),
        "samples": MetadataValue.int(report.samples),
        "summary": MetadataValue.md(summary_markdown(report)),
        "chart": MetadataValue.md(chart_markdown(report)),
        "variants": MetadataValue.table(schema=VARIANT_SCHEMA, records=[TableRecord({
            "variant": m.variant.value, "samples": m.samples, "successes": m.successes,
            "success_rate": _value(m.success_rate), "median_duration_s": _value(m.median["duration_s"]),
            "median_cost_usd": _value(m.median["cost_usd"]), "median_tokens": _value(m.median["tokens"]),
            "median_iterations": _value(m.median["iterations"])}) for m in variants]),
        "tenants": MetadataValue.table(schema=TENANT_SCHEMA, records=[TableRecord({
            "tenant": r.tenant, "samples": r.samples, "recommendation": r.recommendation,
            "regression": r.regression}) for r in per_tenant]),
        "sequential": MetadataValue.json([t.model_dump(mode="json") for t in report.sequential]),
    }


def variant_metadata(store, build_id: str) -> dict:
    """The build's variant as a badge on its run panel (nothing when it has none)."""
    from mb_core.store.canary import CanaryStore

    assignment = CanaryStore(store).variant_of(build_id)
    if assignment is None:
        return {}
    canary = f" (canary {assignment.canary_percent:g} %)" if assignment.canary_percent is not None else ""
    return {"variant": MetadataValue.text(f"{assignment.variant.value}{canary}")}
