"""The canary report's check: it fails on a significant regression of v4 (all tenants together or
any one of them), the evidence in its metadata."""


from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from mb_core.canary.recording import latest_reports
from mb_dagster.canary.assets import canary_report
from mb_dagster.resources import MetaBuilderResource


@asset_check(asset=canary_report, name="no_significant_regression",
             description="Fails when the always-valid tests show v4 significantly worse than baseline.")
def no_significant_regression(mb: MetaBuilderResource) -> AssetCheckResult:
    reports = latest_reports(mb.environment().store)
    regressed = [r for r in reports if r.regression]
    where = lambda r: r.tenant or "all tenants"
    description = ("; ".join(f"{where(r)}: {' / '.join(r.reasons)}" for r in regressed) if regressed
                   else f"no significant regression ({', '.join(f'{where(r)}: {r.recommendation}' for r in reports) or 'no report'})")
    return AssetCheckResult(
        passed=not regressed, severity=AssetCheckSeverity.ERROR, description=description[:1000],
        metadata={"regressed": MetadataValue.json([where(r) for r in regressed]),
                  "reports": MetadataValue.int(len(reports))})
