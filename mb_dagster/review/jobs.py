"""Approve or reject a build from the UI: a job a reviewer launches from the Launchpad for one
`builds` partition, with their name and comment as run config.

The decision goes through the same functions as `mb approve` / `mb reject` (who, when and why in
the store); an approved build is then released by the approvals sensor, as after
`mb approve --no-release`. Bad config fails the run with one line before anything is written.
"""


from dagster import Config, Failure, OpExecutionContext, in_process_executor, job, op
from pydantic import Field

from mb_core.errors import MBError
from mb_core.review import review_refusal
from mb_dagster.partitions import builds_partitions
from mb_dagster.resources import MetaBuilderResource

REVIEW_TAG = "mb/review"  # approve or reject: the review runs are easy to find in the run list


class ReviewConfig(Config):
    reviewer: str = Field(description="Who decides: recorded in the store as the build's reviewer.")
    comment: str = Field(default="", description="Why: recorded with the decision.")


def _decide(context: OpExecutionContext, mb: MetaBuilderResource, config: ReviewConfig,
            approve: bool) -> None:
    from mb_dagster import driver

    env = mb.environment()
    build_id = context.partition_key
    try:
        build = env.store.get_build(build_id)
        refusal = review_refusal(build, env.store.get_gate(build_id), config.reviewer)
        if refusal:
            raise Failure(description=refusal, allow_retries=False)
        reviewer = config.reviewer.strip()
        if approve:
            build, _ = driver.approve(env, None, build_id, reviewer, config.comment, release_now=False)
        else:
            build = driver.reject(env, build_id, reviewer, config.comment)
    except MBError as exc:
        raise Failure(description=str(exc), allow_retries=False) from None
    gate = env.store.get_gate(build_id)
    when = f"{gate.decided_at:%Y-%m-%d %H:%M:%S} UTC" if gate and gate.decided_at else "now"
    context.log.info(f"{gate.decision.value if gate else build.status.value} {build_id} by "
                     f"{reviewer} at {when}" + (f": {config.comment}" if config.comment else ""))


@op(description="Record the reviewer's approval of the build; the approvals sensor releases it.")
def approve_build(context: OpExecutionContext, config: ReviewConfig, mb: MetaBuilderResource) -> None:
    _decide(context, mb, config, approve=True)


@op(description="Record the reviewer's rejection of the build: it is never released.")
def reject_build(context: OpExecutionContext, config: ReviewConfig, mb: MetaBuilderResource) -> None:
    _decide(context, mb, config, approve=False)


@job(partitions_def=builds_partitions, executor_def=in_process_executor, tags={REVIEW_TAG: "approve"},
     description="Approve a build waiting at the gate (Launchpad: pick the partition, give "
                 "ops.approve_build.config.reviewer and comment); the approvals sensor releases it.")
def approve_build_job():
    approve_build()


@job(partitions_def=builds_partitions, executor_def=in_process_executor, tags={REVIEW_TAG: "reject"},
     description="Reject a build waiting at the gate (Launchpad: pick the partition, give "
                 "ops.reject_build.config.reviewer and comment).")
def reject_build_job():
    reject_build()
