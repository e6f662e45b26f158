"""The build: spec -> plan -> diff -> eval_report, one partition per build."""


from dagster import AssetExecutionContext, asset

from mb_core.models import DiffArtifact, EvalReport, ScaffoldPlan, ScaffoldSpec
from mb_core.pipeline import (
    decide_release,
    produce_diff,
    produce_eval_report,
    produce_plan,
    produce_spec,
)
from mb_core.repair_steps import patch_diff, replan
from mb_dagster.build.metadata import (
    diff_metadata,
    eval_metadata,
    model_metadata,
    plan_metadata,
    repair_metadata,
    replay_metadata,
    run_panel_metadata,
    spec_metadata,
    usage_metadata,
)
from mb_dagster.canary.metadata import variant_metadata
from mb_dagster.healing.attempts import begin_run
from mb_dagster.healing.retries import LLM_RETRY_POLICY, skips_when_superseded, transient_only
from mb_dagster.partitions import builds_partitions
from mb_dagster.resources import MetaBuilderResource

PROVIDER_TAG = "mb/provider"  # overrides the build's provider for this run (replay)
ITERATION_TAG = "mb/iteration"
REPLAY_TAG = "mb/replay"  # a replay: leaves the gate, status and workspace as they were
PHASE_TAG = "mb/phase"  # the repair ladder's rung this run is: build, retry, patch, replan
HEALING_TAG = "mb/healing"  # "1": a failed evaluation leaves the build to its driver's ladder
# Dagster pools (limits in the instance: concurrency.pools): the steps whose agents call an LLM
# provider, and the step that runs generated code in the sandbox.
LLM_POOL = "mb_llm"
SANDBOX_POOL = "mb_sandbox"


def _phase(context: AssetExecutionContext) -> str:
    return context.run.tags.get(PHASE_TAG, "build")


def _is_replay(context: AssetExecutionContext) -> bool:
    return context.run.tags.get(REPLAY_TAG) == "1"


def _build_and_context(context: AssetExecutionContext, mb: MetaBuilderResource):
    env = mb.environment()
    begin_run(env, context.instance, context.run)  # a sensor's run keeps its own books first
    build = env.store.get_build(context.partition_key)
    provider = env.provider_for(build, context.run.tags.get(PROVIDER_TAG))
    return env, build, env.agent_context(build, provider)


@asset(partitions_def=builds_partitions, group_name="build", io_manager_key="mb_io", pool=LLM_POOL,
       kinds={"python"}, description="The formal spec the Product Architect reads out of the text.",
       retry_policy=LLM_RETRY_POLICY, output_required=False)
@skips_when_superseded
@transient_only
def spec(context: AssetExecutionContext, mb: MetaBuilderResource) -> ScaffoldSpec:
    env, build, ctx = _build_and_context(context, mb)
    value = produce_spec(env, build, ctx)
    context.add_output_metadata({**spec_metadata(value), **usage_metadata(env.usage(build))})
    return value


@asset(partitions_def=builds_partitions, group_name="build", io_manager_key="mb_io", pool=LLM_POOL,
       kinds={"python"}, description="Entities, endpoints, roles, controls and risk score.",
       retry_policy=LLM_RETRY_POLICY, output_required=False)
@skips_when_superseded
@transient_only
def plan(context: AssetExecutionContext, mb: MetaBuilderResource, spec: ScaffoldSpec) -> ScaffoldPlan:
    env, build, ctx = _build_and_context(context, mb)
    if _phase(context) == "replan":
        value = replan(env, build, ctx)
    else:
        value = produce_plan(env, build, spec, ctx)
    context.add_output_metadata({**plan_metadata(value), **usage_metadata(env.usage(build))})
    return value


@asset(partitions_def=builds_partitions, group_name="build", io_manager_key="mb_io", pool=LLM_POOL,
       kinds={"git"}, description="The unified diff over the target repository, applied in the "
       "build's workspace after the safety checks.",
       retry_policy=LLM_RETRY_POLICY, output_required=False)
@skips_when_superseded
@transient_only
def diff(context: AssetExecutionContext, mb: MetaBuilderResource, plan: ScaffoldPlan) -> DiffArtifact:
    env, build, ctx = _build_and_context(context, mb)
    iteration = int(context.run.tags.get(ITERATION_TAG, "1"))
    if not _is_replay(context):
        if _phase(context) == "patch":
            value = patch_diff(env, build, plan, ctx, iteration=iteration)
        else:
            value = produce_diff(env, build, plan, ctx, iteration=iteration)
        context.add_output_metadata({**diff_metadata(value), **usage_metadata(env.usage(build))})
        return value
    from mb_dagster.replay.workspace import hold_head, restore_head

    original = env.assets.read("diff", build.id, DiffArtifact)  # still the replayed build's value
    hold_head(env, build.id)
    try:
        value = produce_diff(env, build, plan, ctx, iteration=original.iteration if original else 1)
    except BaseException:
        restore_head(env, build.id)
        raise
    context.add_output_metadata({**diff_metadata(value), **usage_metadata(env.usage(build)),
                                 **replay_metadata(build.id, original, value)})
    return value


@asset(partitions_def=builds_partitions, group_name="build", io_manager_key="mb_io",
       pool=SANDBOX_POOL, kinds={"pytest"},
       description="The generated tests run in the sandbox, and the release gate.",
       retry_policy=LLM_RETRY_POLICY)
@transient_only
def eval_report(context: AssetExecutionContext, mb: MetaBuilderResource, plan: ScaffoldPlan,
                diff: DiffArtifact) -> EvalReport:
    env, build, ctx = _build_and_context(context, mb)
    if _is_replay(context):
        from mb_dagster.replay.workspace import restore_head

        try:
            value = produce_eval_report(env, build, diff, ctx)
        finally:
            restore_head(env, build.id)
        # The gate already decided this build; a replay only re-checks what it would produce.
        gate = env.store.get_gate(build.id)
        context.add_output_metadata({
            **eval_metadata(value, gate.decision.value if gate else "", gate.reason if gate else ""),
            **usage_metadata(env.usage(build)), "replay_of": build.id})
        return value
    value = produce_eval_report(env, build, diff, ctx)
    gate = decide_release(env, build, plan, value, healing=context.run.tags.get(HEALING_TAG) == "1")
    attempts = env.store.list_attempts(build.id)
    usage = env.usage(build)
    # The run panel first (the UI keeps the order), then the details it summarizes.
    context.add_output_metadata({
        **run_panel_metadata(build, env.assets.read("spec", build.id, ScaffoldSpec), plan, value,
                             env.store.get_gate(build.id) or gate, env.store.get_budget(build.id),
                             usage, attempts),
        **repair_metadata(attempts, _phase(context), value.iteration),
        **eval_metadata(value, gate.decision.value, gate.reason),
        **usage_metadata(usage),
        **model_metadata(env.store, build.id),
        **variant_metadata(env.store, build.id)})
    return value
