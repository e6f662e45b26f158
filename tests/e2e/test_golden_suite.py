"""`mb golden` as a user runs it: real processes, a real Dagster instance, the real sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MB = str(Path(sys.executable).parent / "mb")
SUBSET = ["crm_contacts_deals", "nothing_buildable_gibberish", "enormous_spec"]


def mb(*args: str, env_extra: dict | None = None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([MB, *args], check=False, capture_output=True, env=env, timeout=900)


def only(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--only", name)]


def test_a_subset_runs_through_dagster_and_replays(mb_home):
    result = mb("golden", *only(*SUBSET))
    text = result.stdout.decode()
    assert result.returncode == 0, text + result.stderr.decode()[-3000:]
    lines = text.splitlines()
    assert lines[0].startswith("3 golden tasks, 2 at a time (fresh builds)")
    assert lines[1].split() == ["done", "task", "result", "entities", "tests", "checks", "seconds"]
    # Each row as its task finishes: the first printed says 1/3, the last 3/3.
    assert [line.split()[0] for line in lines[2:5]] == ["1/3", "2/3", "3/3"]
    rows = {line.split()[1]: line.split()[1:] for line in lines[2:] if "/" in line.split()[0]}
    assert rows["crm_contacts_deals"][1:3] == ["ok", "built"]
    assert rows["crm_contacts_deals"][5] == "15/15"  # every check evaluated and passed
    assert rows["nothing_buildable_gibberish"][1:3] == ["ok", "refused"]
    assert rows["enormous_spec"][1:3] == ["ok", "refused"]
    assert "3 of 3 golden tasks passed" in text

    replayed = mb("golden", "--ci", "--replay", *only("crm_contacts_deals", "enormous_spec"))
    report = json.loads(replayed.stdout)
    assert replayed.returncode == 0, report
    crm = next(t for t in report["tasks"] if t["task"] == "crm_contacts_deals")
    assert crm["mode"] == "replay" and crm["ok"] and crm["status"] == "released"
    assert crm["checks"]["tenant_isolation"]["passed"] and not crm["failed_error_checks"]
    assert report["passed"] == 2 and report["failed"] == 0


def test_a_mismatch_exits_non_zero_and_says_why(mb_home, tmp_path):
    folder = tmp_path / "golden"
    folder.mkdir()
    (folder / "wrong_refusal.yaml").write_text(
        "domain: crm\nspec: hello there, how are you today?\nexpect: refused\nreason: 'budget'\n")
    (folder / "bad.yaml").write_text("domain: crm\nspec: x\nexpect: maybe\n")
    invalid = mb("golden", "--dir", str(folder))
    assert invalid.returncode != 0
    assert invalid.stderr.decode().strip() == (
        "error: golden task bad.yaml: field expect: Input should be 'built', 'refused' or 'contained'")
    (folder / "bad.yaml").unlink()
    result = mb("golden", "--ci", "--dir", str(folder))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    task = report["tasks"][0]
    assert task["ok"] is False and task["outcome"] == "refused"
    assert "does not match /budget/" in task["mismatches"][0]
