"""The release: the artifact (zip, PR body, manifest), materialized once the gate allows it."""


from pathlib import Path

from dagster import AssetExecutionContext, MetadataValue, Output, asset

from mb_core.models import DiffArtifact, EvalReport, ScaffoldPlan
from mb_core.pipeline import produce_artifact
from mb_dagster.build.assets import _build_and_context
from mb_dagster.healing.attempts import RunSuperseded, mark_superseded
from mb_dagster.partitions import builds_partitions
from mb_dagster.resources import MetaBuilderResource


def sla_metadata(env, build) -> dict:
    """The SLA monitor's verdict on this build: its tier, both times and any missed target."""
    from mb_core.models import utcnow
    from mb_core.scheduling import sla_report

    report = sla_report(build.sla, build.created_at, env.store.list_steps(build.id), utcnow())
    return {"sla": MetadataValue.json(report.model_dump(mode="json")),
            "sla_violations": MetadataValue.md(
                "\n".join(f"- {v.text}" for v in report.violations) or "none")}


# Output not required: a duplicate release run (its build released or being released by another
# run) ends as a skipped materialization and a superseded run, not as a failure.
@asset(partitions_def=builds_partitions, group_name="release", io_manager_key="mb_io",
       kinds={"zip"}, output_required=False,
       description="Zip of the generated project, PR body and manifest.")
def artifact(context: AssetExecutionContext, mb: MetaBuilderResource, plan: ScaffoldPlan,
             diff: DiffArtifact, eval_report: EvalReport):
    try:
        env, build, ctx = _build_and_context(context, mb)
    except RunSuperseded as exc:
        mark_superseded(context.instance, context.run_id, str(exc))
        context.log.info(f"nothing to release: {exc}")
        return
    value = produce_artifact(env, build, plan, diff, eval_report, ctx)
    yield Output(value, metadata={
        "zip": MetadataValue.path(value.zip_path),
        "zip_sha256": value.zip_sha256,
        "pr_body": MetadataValue.md(Path(value.pr_body_path).read_text(encoding="utf-8")),
        "manifest": MetadataValue.path(value.manifest_path),
        "approval": value.approval.decision.value,
        "approved_by": value.approval.decided_by or "",
        **sla_metadata(env, build),
    })
