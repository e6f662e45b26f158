"""The run panel: one eval_report materialization that says how a build went, and title tags."""

from __future__ import annotations

from dagster import AssetKey, DagsterEventType, EventRecordsFilter, RunsFilter, instance_for_test

from mb_core.models import BuildRun, BuildStatus, EvalReport, RunBudget
from mb_core.pipeline import BuildEnvironment
from mb_core.scheduling import run_tags_for
from mb_core.settings import Settings
from mb_core.store import new_build_id
from mb_dagster import driver
from mb_dagster.build.metadata import TITLE_TAG, budget_rows, run_tags
from mb_dagster.terminal import short_title

SPEC = "Build a CRM system with contacts and deals\nDeals have an amount and a stage."


def _latest_materialization(instance, asset: str, build_id: str):
    records = instance.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ASSET_MATERIALIZATION,
                           asset_key=AssetKey(asset), asset_partitions=[build_id]), limit=1)
    return records[0].event_log_entry.asset_materialization


def test_a_built_partition_shows_the_whole_run_panel_on_eval_report(mb_home):
    env = BuildEnvironment.open(Settings.from_env())
    build_id = new_build_id()
    env.store.create_build(BuildRun(id=build_id, spec_text=SPEC, status=BuildStatus.running))
    with instance_for_test() as instance:
        result = driver.run_build(env, instance, build_id)
        assert result.build.status == BuildStatus.released
        runs = instance.get_runs(RunsFilter(tags={"mb/build": build_id}))
        assert runs and {r.tags[TITLE_TAG] for r in runs} == {
            "Build a CRM system with contacts and deals"}
        # The CLI's driver tags its runs as the sensors tag theirs (mb_core.scheduling.run_tags_for).
        build = env.store.get_build(build_id)
        assert {(r.job_name, r.tags["mb/queue"], r.tags["dagster/priority"]) for r in runs} == {
            (job, run_tags_for(build, job)["mb/queue"], "0") for job in ("build_job", "release_job")}
        md = _latest_materialization(instance, "eval_report", build_id).metadata

    report = env.assets.read("eval_report", build_id, EvalReport)
    gate = env.store.get_gate(build_id)
    keys = list(md)
    assert keys[0] == "build"  # the summary comes first
    assert keys.index("risk_score") < keys.index("requirements") < keys.index("tests")
    summary = md["build"].value
    assert "Build a CRM system with contacts and deals" in summary
    assert f"{report.confidence.score}/100 ({report.confidence.level.value})" in summary
    assert md["spec_first_line"].value == "Build a CRM system with contacts and deals"
    assert md["risk_score"].value == gate.risk_score
    # The model the attempt was given, and why (the offline provider has one).
    assert md["model"].value == "offline-rules-1"
    assert "| 1 | offline-rules-1 |" in md["model_choice"].value and "normal: cheapest" in md["model_choice"].value
    assert md["confidence_level"].value == report.confidence.level.value
    assert md["confidence_score"].value == report.confidence.score

    requirements = md["requirements"].value
    assert len(requirements.records) == len(report.requirements) > 0
    assert {r.data["status"] for r in requirements.records} == {r.status.value for r in report.requirements}

    tests = md["tests"].value
    assert len(tests.records) == len(report.tests)
    assert sum(r.data["outcome"] == "passed" for r in tests.records) == report.tests_passed > 10
    assert {c.name for c in tests.schema.columns} == {"test", "outcome", "seconds", "message"}

    budget = {r.data["resource"]: r.data for r in md["budget_table"].value.records}
    assert set(budget) == {"tokens", "cost (USD)", "time (s)", "attempts"}
    assert budget["attempts"]["used"] == "1"
    assert budget["tokens"]["limit"] == f"{env.store.get_budget(build_id).max_tokens:,}"
    assert "repair_timeline" in md


def test_budget_rows_say_used_limit_and_left():
    budget = RunBudget(build_id="b1", max_attempts=4, attempts_used=2, max_tokens=1000,
                       max_seconds=900.0, running_seconds=100.0)
    rows = {r["resource"]: r for r in budget_rows(
        budget, {"total": {"total_tokens": 250, "cost_usd": 0.5}}, now_attempt_seconds=20.0)}
    assert rows["tokens"] == {"resource": "tokens", "used": "250", "limit": "1,000", "left": "750"}
    assert rows["time (s)"]["used"] == "120.0" and rows["time (s)"]["left"] == "780"
    assert rows["attempts"]["used"] == "3" and rows["attempts"]["left"] == "1"  # 2 done, 1 running
    finished = {r["resource"]: r for r in budget_rows(budget, {})}
    assert finished["attempts"]["used"] == "2" and finished["time (s)"]["used"] == "100.0"
    assert rows["cost (USD)"]["limit"] == "unlimited" and rows["cost (USD)"]["left"] == "-"


def test_title_tags_are_short_single_lines_without_control_characters():
    spec = "\n\n  Build a \x1b[31mshop\x07 with   products, orders, customers, suppliers and shipments\nmore"
    title = short_title(spec, limit=40)
    assert "\x1b" not in title and "\x07" not in title and "\n" not in title
    assert len(title) <= 40 and title.endswith("…") and title.startswith("Build a [31mshop")
    assert run_tags(BuildRun(id="b2", spec_text=spec))["mb/build"] == "b2"
    assert run_tags(BuildRun(id="b3", spec_text="   "))[TITLE_TAG] == "b3"
