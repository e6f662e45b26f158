"""canary_report: the canary's statistics over every sample, kept in the store, on the run panel."""


from dagster import AssetExecutionContext, MaterializeResult, asset

from mb_core.canary.recording import refresh_reports
from mb_dagster.canary.metadata import report_metadata
from mb_dagster.resources import MetaBuilderResource


@asset(group_name="canary", kinds={"scipy"},
       description="Per-variant metrics, tests and the recommendation (promote, continue, roll back) "
                   "over the canary samples of finished builds.")
def canary_report(context: AssetExecutionContext, mb: MetaBuilderResource) -> MaterializeResult:
    overall, *per_tenant = refresh_reports(mb.environment().store)
    context.log.info(f"canary: {overall.recommendation} over {overall.samples} samples")
    return MaterializeResult(metadata=report_metadata(overall, per_tenant))
