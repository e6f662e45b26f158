"""The CLI as a user runs it: real processes, real Dagster instance, real sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

MB = str(Path(sys.executable).parent / "mb")
CRM = "Build a CRM system with contacts and deals"


def mb(*args: str, env_extra: dict | None = None, input: bytes | None = None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([MB, *args], capture_output=True, env=env, input=input, timeout=600, check=False)


def out(result) -> str:
    return result.stdout.decode() + result.stderr.decode()


def test_crm_build_end_to_end(mb_home, tmp_path):
    result = mb("build", CRM)
    text = out(result)
    assert result.returncode == 0, text
    for step in ("spec", "plan", "diff", "eval_report", "artifact"):
        assert f"ok  {step}" in text, text
    assert "0 failed, 0 errors in the sandbox (bubblewrap)" in text
    build_id = text.split()[1]

    manifest_path = Path(text.split("manifest:")[1].split()[0])
    manifest = json.loads(manifest_path.read_text())
    assert manifest["build_id"] == build_id
    assert manifest["tests"]["passed"] > 10 and manifest["tests"]["failed"] == 0
    pr_body = Path(text.split("PR body:")[1].split()[0]).read_text()
    assert "### Risk" in pr_body and "### Tests" in pr_body

    # The artifact stands on its own: unzipped into an empty folder, its tests pass there too.
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(Path(text.split("artifact:")[1].split()[0])) as zf:
        zf.extractall(unpacked)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                         cwd=unpacked, capture_output=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout.decode()[-3000:]

    status = mb("status", build_id)
    assert status.returncode == 0 and "released" in out(status)
    assert "succeeded eval_report" in out(status)
    listing = mb("list")
    assert build_id in out(listing)
    diff = mb("show", build_id, "diff")
    assert diff.returncode == 0 and "+++ b/app/main.py" in out(diff)

    # The Dagster instance the CLI used holds a materialization of each asset for this partition.
    from dagster import AssetKey, DagsterInstance

    instance = DagsterInstance.from_config(str(mb_home / "dagster"))
    for asset in ("spec", "plan", "diff", "eval_report", "artifact"):
        event = instance.get_latest_materialization_event(AssetKey(asset))
        assert event is not None and event.asset_materialization.partition == build_id


def _assert_nothing_created(mb_home: Path):
    listing = mb("list")
    assert "no builds yet" in out(listing), out(listing)
    workspaces = mb_home / "workspaces"
    assert not workspaces.exists() or not any(workspaces.iterdir())


@pytest.mark.parametrize(
    "args, message",
    [
        (("build", ""), "is empty"),
        (("build", "   \t "), "is empty"),
        (("build",), "no spec given"),
        (("status", "nope-123"), "no build named nope-123"),
        (("show", "nope-123", "diff"), "no build named nope-123"),
        (("approve", "nope-123"), "no build named nope-123"),
        (("reject", "nope-123"), "no build named nope-123"),
        (("cancel", "nope-123"), "no build named nope-123"),
        (("build", "--base", "nope-123", "Add invoices"), "no build named nope-123"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(mb_home, args, message):
    result = mb(*args)
    assert result.returncode != 0
    err = result.stderr.decode().strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert "Traceback" not in out(result)
    _assert_nothing_created(mb_home)


def test_bad_spec_files(mb_home, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"Build a CRM. " * 400_000)  # about 5 MB
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Build a café CRM with contacts".encode("latin-1"))
    for path, message in ((big, "the limit is 256 KB"), (latin, "is not UTF-8")):
        result = mb("build", "-f", str(path))
        assert result.returncode != 0 and message in result.stderr.decode(), out(result)
        assert len(result.stderr.decode().strip().splitlines()) == 1
    _assert_nothing_created(mb_home)


def test_risky_build_waits_then_approve_releases_and_second_decision_fails(mb_home):
    env = {"MB_RISK_THRESHOLD": "0"}  # every build needs a person's approval
    result = mb("build", CRM, env_extra=env)
    text = out(result)
    assert result.returncode == 0, text
    assert "waiting for approval: mb approve" in text
    build_id = text.split()[1]
    assert not (mb_home / "artifacts" / build_id).exists()

    approved = mb("approve", build_id, "--by", "alice", env_extra=env)
    assert approved.returncode == 0, out(approved)
    assert "artifact:" in out(approved)
    again = mb("approve", build_id, "--by", "bob", env_extra=env)
    assert again.returncode != 0
    assert "already approved by alice" in again.stderr.decode()
    rejected = mb("reject", build_id, env_extra=env)
    assert rejected.returncode != 0 and "already approved" in rejected.stderr.decode()


def _new_file_diff(path: str, lines: list[str]) -> str:
    body = "".join(f"+{line}\n" for line in lines)
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,{len(lines)} @@\n{body}")


@pytest.mark.parametrize(
    "path, lines, message",
    [
        ("../x", ["escape"], "'..' segment"),
        ("/etc/x", ["owned"], "absolute path"),
        (".git/config", ["[core]"], ".git"),
        ("app/keys.py", ['KEY = """', "-----BEGIN RSA PRIVATE KEY-----", '"""'], "private key"),
    ],
)
def test_hostile_diffs_are_refused_and_the_repository_is_untouched(mb_home, tmp_path, path, lines,
                                                                     message):
    repo = tmp_path / "target"
    repo.mkdir()
    for args in (["init", "-q"], ["-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q",
                                  "--allow-empty", "-m", "start"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    before = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=repo,
                            capture_output=True, check=True).stdout
    patch = tmp_path / "change.diff"
    patch.write_text(_new_file_diff(path.lstrip("/") if path.startswith("/") else path, lines)
                     .replace("b//", "b/").replace("a/etc/x", "a//etc/x").replace("b/etc/x", "b//etc/x")
                     if path.startswith("/") else _new_file_diff(path, lines))
    result = mb("check-diff", str(patch), "--repo", str(repo))
    err = result.stderr.decode().strip()
    assert result.returncode != 0 and message in err and len(err.splitlines()) == 1, out(result)
    after = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=repo,
                           capture_output=True, check=True).stdout
    assert after == before
    assert not (tmp_path / "x").exists() and not Path("/etc/x").exists()


def test_a_sound_diff_passes_and_applies(mb_home, tmp_path):
    repo = tmp_path / "target"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    patch = tmp_path / "change.diff"
    patch.write_text(_new_file_diff("app/ok.py", ["X = 1"]))
    result = mb("check-diff", str(patch), "--repo", str(repo))
    assert result.returncode == 0 and "applies to" in out(result), out(result)
    assert not (repo / "app").exists()  # checked, never applied


def test_a_sandbox_that_cannot_start_fails_the_build_with_its_reason(mb_home, tmp_path):
    # A PATH without bubblewrap, and bubblewrap required: the tests must not run at all.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in ("/usr/bin", "/bin"):
        for tool in Path(folder).iterdir():
            if tool.name != "bwrap" and not (bin_dir / tool.name).exists():
                (bin_dir / tool.name).symlink_to(tool)
    path = f"{Path(sys.executable).parent}:{bin_dir}"
    result = mb("build", CRM, env_extra={"PATH": path, "MB_SANDBOX": "bubblewrap"})
    text = out(result)
    assert result.returncode != 0, text
    assert "sandbox: bubblewrap (bwrap) is not installed; the tests were not run" in text
    build_id = text.split()[1]
    status = out(mb("status", build_id))
    assert "failed" in status and "bubblewrap (bwrap) is not installed" in status, status
    assert not list((mb_home / "artifacts").glob(f"{build_id}*"))
