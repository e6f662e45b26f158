"""What the CLI shows: the latest build without an id, id prefixes, readable plans and specs,
`mb list` with a header and golden builds marked, help lines whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mb_core.models import BuildRun, BuildStatus, ScaffoldPlan, ScaffoldSpec
from mb_core.pipeline import BuildEnvironment, produce_plan, produce_spec
from mb_core.settings import Settings
from mb_core.store import new_build_id

MB = str(Path(sys.executable).parent / "mb")


def mb(*args: str):
    result = subprocess.run([MB, *args], capture_output=True, env={**os.environ, "COLUMNS": "80"},
                            timeout=300, check=False)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


@pytest.fixture
def builds(mb_home):
    """Three builds made through the store (and, for one, the offline agents' spec and plan)."""
    env = BuildEnvironment.open(Settings.from_env())
    now = datetime.now(UTC)
    first = new_build_id(now - timedelta(hours=2))
    second = new_build_id(now - timedelta(hours=2))  # the same second: only the tails differ
    golden = new_build_id(now - timedelta(hours=1))
    while golden.rsplit("-", 1)[1].startswith("b"):  # its tail must not also prefix every id
        golden = new_build_id(now - timedelta(hours=1))
    latest = new_build_id(now)
    env.store.create_build(BuildRun(id=first, spec_text="Build a library with books and loans",
                                    created_at=now - timedelta(hours=2)))
    env.store.create_build(BuildRun(id=second, spec_text="Build a gym with members and classes",
                                    created_at=now - timedelta(hours=2)))
    env.store.create_build(BuildRun(id=golden, tenant="golden", spec_text="Build a todo app with tasks",
                                    created_at=now - timedelta(hours=1)))
    env.store.create_build(BuildRun(id=latest, status=BuildStatus.running,
                                    spec_text="Build a CRM system with contacts and deals",
                                    created_at=now))
    build = env.store.get_build(latest)
    ctx = env.agent_context(build, env.provider_for(build, None))
    spec = produce_spec(env, build, ctx)
    env.assets.write("spec", latest, spec)
    env.assets.write("plan", latest, produce_plan(env, build, spec, ctx))
    return env, {"first": first, "second": second, "golden": golden, "latest": latest}


def test_status_without_an_id_is_the_latest_and_a_prefix_is_enough(builds):
    _, ids = builds
    code, out, _ = mb("status")
    assert code == 0 and out.startswith(f"build {ids['latest']}: running")
    tail = ids["golden"].rsplit("-", 1)[1][:6]
    code, out, _ = mb("status", tail)
    assert code == 0 and out.startswith(f"build {ids['golden']}: submitted")

    shared = os.path.commonprefix([ids["first"], ids["second"]])
    code, out, err = mb("status", shared)
    assert code != 0 and out == ""
    assert err.strip().splitlines() == [err.strip()]
    assert "ambiguous" in err and ids["first"] in err and ids["second"] in err

    code, _, err = mb("status", "zz-nothing")
    assert code != 0 and "no build named zz-nothing" in err and len(err.strip().splitlines()) == 1


def test_show_plan_and_spec_are_readable_and_json_on_request(builds):
    env, ids = builds
    plan = env.assets.read("plan", ids["latest"], ScaffoldPlan)
    code, out, _ = mb("show", ids["latest"][:-3], "plan")
    assert code == 0 and out.startswith(plan.title)
    assert f"risk {plan.risk_score}/100" in out and f"endpoints ({len(plan.endpoints)}):" in out
    assert "contact (contacts)" in out and not out.lstrip().startswith("{")

    code, out, _ = mb("show", ids["latest"], "plan", "--json")
    assert code == 0 and ScaffoldPlan.model_validate(json.loads(out)) == plan

    spec = env.assets.read("spec", ids["latest"], ScaffoldSpec)
    code, out, _ = mb("show", ids["latest"], "spec")
    assert code == 0 and "> Build a CRM system with contacts and deals" in out
    assert f"entities ({len(spec.entities)}):" in out

    code, _, err = mb("show", ids["first"], "report")
    assert code != 0 and f"build {ids['first']} has no report (yet)" in err


def test_list_has_a_header_dates_titles_and_marks_golden_builds(builds):
    _, ids = builds
    code, out, _ = mb("list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["build", "created", "(UTC)", "status"]
    golden = next(line for line in lines if ids["golden"] in line)
    assert golden.startswith("* ") and "Build a todo app with tasks" in golden
    latest = next(line for line in lines if ids["latest"] in line)
    assert latest.startswith("  ") and "Build a CRM system with contacts and deals" in latest
    assert datetime.now(UTC).strftime("%Y-%m-%d") in latest or "running" in latest

    code, out, _ = mb("list", "--no-golden")
    assert code == 0 and ids["golden"] not in out and ids["latest"] in out


def test_help_lines_are_not_cut(mb_home):
    code, out, _ = mb("--help")
    assert code == 0
    whole = " ".join(out.split())  # wrapped to the terminal, but whole
    assert "Check a unified diff with the very checks a build's diff passes before it is applied." in whole
    assert "a unique prefix of an id is enough)." in whole
    assert not [line for line in out.splitlines()[1:] if line.rstrip().endswith("...")]
