"""`mb canary stats` and `mb canary report`: the latest canary report, or a new one now."""

from __future__ import annotations

import json

import click

from mb_core.settings import Settings


def _env():
    from mb_core.pipeline import BuildEnvironment

    return BuildEnvironment.open(Settings.from_env())


def _show(report, as_json: bool) -> None:
    from mb_core.canary.report import chart_markdown, summary_markdown

    if as_json:
        click.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    who = report.tenant or "all tenants"
    click.echo(f"canary report of {who}, {report.generated_at:%Y-%m-%d %H:%M:%S} UTC")
    click.echo(summary_markdown(report))
    click.echo(chart_markdown(report))


@click.group()
def canary() -> None:
    """The canary: v4 (the repair ladder) against baseline (one attempt), and what to do next."""


@canary.command()
@click.option("--tenant", default="", help="One tenant's report (default: every tenant together).")
@click.option("--json", "as_json", is_flag=True, help="The whole report as JSON.")
def stats(tenant: str, as_json: bool) -> None:
    """The latest canary report, and the samples collected since."""
    from mb_core.errors import MBError
    from mb_core.store.canary import CanaryStore

    canary_store = CanaryStore(_env().store)
    report = canary_store.latest_report(tenant)
    if report is None:
        counts = {k: v for k, v in canary_store.sample_counts().items() if not tenant or k[0] == tenant}
        collected = ", ".join(f"{t} {v}: {n} ({ok} ok)" for (t, v), (n, ok) in sorted(counts.items())) or "none"
        raise MBError(f"no canary report of {tenant or 'all tenants'} yet (samples: {collected}); "
                      "`mb canary report` makes one now")
    _show(report, as_json)


@canary.command()
@click.option("--json", "as_json", is_flag=True, help="The whole report as JSON.")
def report(as_json: bool) -> None:
    """Materialize canary_report now (the scheduled job, run in this process), then show it."""
    from mb_core.errors import MBError
    from mb_core.store.canary import CanaryStore
    from mb_dagster.definitions import defs
    from mb_dagster.instance import open_instance

    env = _env()
    instance = open_instance(env.settings)
    try:
        result = defs.resolve_job_def("canary_report_job").execute_in_process(
            instance=instance, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
    finally:
        instance.dispose()
    if not result.success:
        raise MBError("the canary report job failed: see its run in the Dagster UI")
    found = CanaryStore(env.store).latest_report("")
    assert found is not None  # the job just wrote it
    _show(found, as_json)
    for check in result.get_asset_check_evaluations():
        if not check.passed:
            click.echo(f"check {check.check_name} FAILED: {check.description}")
