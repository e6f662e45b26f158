"""The Patch and Re-plan rungs as build steps (what the `plan` and `diff` assets run in those
phases): the same store records and workspace as the first attempt's steps."""

from __future__ import annotations

from mb_core.agents.base import AgentContext
from mb_core.errors import InvalidState
from mb_core.models import BuildRun, DiffArtifact, EvalReport, ScaffoldPlan
from mb_core.pipeline import BuildEnvironment, build_step
from mb_core.repair import patched_diff, simplified_plan


def patch_diff(env: BuildEnvironment, build: BuildRun, plan: ScaffoldPlan, ctx: AgentContext,
               iteration: int) -> DiffArtifact:
    with build_step(env, build.id, "diff"):
        report = env.assets.read("eval_report", build.id, EvalReport)
        if report is None:
            raise InvalidState(f"build {build.id} has no evaluation to patch")
        diff, _notes = patched_diff(env, build, plan, report, ctx, iteration)
        return diff


def replan(env: BuildEnvironment, build: BuildRun, ctx: AgentContext) -> ScaffoldPlan:
    with build_step(env, build.id, "plan"):
        plan = env.assets.read("plan", build.id, ScaffoldPlan)
        if plan is None:
            raise InvalidState(f"build {build.id} has no plan to re-plan")
        report = env.assets.read("eval_report", build.id, EvalReport)
        failure = build.failure_class.value if build.failure_class else "an earlier failure"
        return simplified_plan(plan, report, failure)
