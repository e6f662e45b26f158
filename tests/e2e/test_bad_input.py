"""Bad input through the real CLI and the real build path: one clear line, non-zero, nothing left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mb_core.diff_safety import DiffLimits
from mb_core.errors import DiffRejected
from mb_core.workspace import Workspace
from mb_dagster.cli import main

MB = str(Path(sys.executable).parent / "mb")
SHA = "3f786850e387550fdab836ed7e6dc881de23001b"


def mb(*args: str, env_extra: dict | None = None):
    return subprocess.run([MB, *args], capture_output=True, env={**os.environ, **(env_extra or {})},
                          timeout=600, check=False)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=u", "-c", "user.email=u@u", *args], cwd=cwd,
                          check=True, capture_output=True).stdout.decode()


def new_file(path: str, lines: list[str], mode: str = "100644", prefix: tuple[str, str] = ("a/", "b/")) -> str:
    body = "".join(f"+{line}\n" for line in lines)
    return (f"diff --git {prefix[0]}{path} {prefix[1]}{path}\nnew file mode {mode}\n--- /dev/null\n"
            f"+++ {prefix[1]}{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}")


HOSTILE = {
    "symlink as git writes it": (new_file("app/link.py", ["/etc/passwd"], "120000"),
                                 "symlink_or_special_mode"),
    "symlink spelled 0120000": (new_file("app/link.py", ["/etc/passwd"], "0120000"),
                                "symlink_or_special_mode"),
    "symlink spelled 120777": (new_file("app/link.py", ["/etc/passwd"], "120777"),
                               "symlink_or_special_mode"),
    "submodule": ((f"diff --git a/app/sub b/app/sub\nnew file mode 160000\nindex 0000000..{SHA[:7]}\n"
                   f"--- /dev/null\n+++ b/app/sub\n@@ -0,0 +1 @@\n+Subproject commit {SHA}\n"),
                  "symlink_or_special_mode"),
    "an existing file made a symlink": (("diff --git a/app/main.py b/app/main.py\nold mode 100644\n"
                                         "new mode 120000\n"), "symlink_or_special_mode"),
    "new file without b/": ("--- /dev/null\n+++ app/run.sh\n@@ -0,0 +1 @@\n+curl x | sh\n",
                            "unprefixed_path"),
    "change without a/ and b/": (("--- app/main.py\n+++ app/main.py\n@@ -1 +1 @@\n"
                                  "-print('hello')\n+print('bye')\n"), "unprefixed_path"),
    "headers that disagree": (("diff --git a/app/ok.py b/app/ok.py\nnew file mode 100644\n"
                               "--- /dev/null\n+++ b/app/other.py\n@@ -0,0 +1 @@\n+x = 1\n"),
                              "unparseable"),
    "parent folder": (new_file("../outside.py", ["x = 1"]), "parent_segment"),
    "inside .git": (new_file(".git/hooks/post-checkout", ["#!/bin/sh"]), "git_dir"),
    "a .env file": (new_file("app/.env", ["SECRET_KEY=abc"]), "denied_path"),
    "outside the write scope": (new_file("lib/x.py", ["x = 1"]), "outside_scope"),
    "rename out of the tree": (("diff --git a/app/main.py b/../main.py\nsimilarity index 100%\n"
                                "rename from app/main.py\nrename to ../main.py\n"), "parent_segment"),
    "binary": (("diff --git a/app/blob.py b/app/blob.py\nnew file mode 100644\n"
                f"index 0000000000000000000000000000000000000000..{SHA}\nGIT binary patch\n"
                "literal 3\nKcmZQzWMT#Y01f~L\n\nliteral 0\nHcmV?d00001\n\n"), "binary"),
    "a private key": (new_file("app/keys.py", ['KEY = """', "-----BEGIN RSA PRIVATE KEY-----",
                                               '"""']), "private_key"),
}


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    ws = Workspace.create(tmp_path / "ws")
    ws.apply_diff(new_file("app/main.py", ["print('hello')"]), "base")
    return ws


def check_diff_cli(tmp_path: Path, patch: str, env: dict | None = None):
    diff = tmp_path / "change.diff"
    diff.write_text(patch)
    return CliRunner().invoke(main, ["check-diff", str(diff)], env=env)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_check_diff_and_the_build_refuse_alike(mb_home, tmp_path, workspace, case):
    patch, rule = HOSTILE[case]
    before = (workspace.head(), git(workspace.path, "status", "--porcelain", "--ignored"))
    with pytest.raises(DiffRejected) as refused:
        workspace.apply_diff(patch, "hostile")
    assert (workspace.head(), git(workspace.path, "status", "--porcelain", "--ignored")) == before

    result = check_diff_cli(tmp_path, patch)
    assert result.exit_code != 0
    assert result.stderr.splitlines() == [f"error: {refused.value}"]
    assert result.stdout == ""

    from mb_core.workspace import vet_patch

    assert vet_patch(patch)[0].rule == rule


def test_an_ordinary_diff_passes_both(mb_home, tmp_path, workspace):
    patch = new_file("app/models.py", ["X = 1"]) + new_file("scripts/run.sh", ["echo ok"], "100755")
    result = check_diff_cli(tmp_path, patch)
    assert result.exit_code == 0 and result.stdout.startswith("ok: 2 files, +2 -0 lines"), result.output
    workspace.apply_diff(patch, "ordinary")
    assert git(workspace.path, "ls-files", "-s", "scripts/run.sh").startswith("100755")


def test_size_limits_refuse_before_reading_alike(mb_home, tmp_path, workspace):
    patch = "".join(new_file(f"app/m{i}.py", [f"X = {i}"] * 40) for i in range(30))
    limits = DiffLimits(max_bytes=len(patch) - 1)
    with pytest.raises(DiffRejected, match="limit is") as refused:
        workspace.apply_diff(patch, "big", limits=limits)
    result = check_diff_cli(tmp_path, patch, env={"MB_MAX_DIFF_BYTES": str(len(patch) - 1)})
    assert result.stderr.splitlines() == [f"error: {refused.value}"]
    assert "MB_MAX_DIFF_BYTES" in str(refused.value)

    with pytest.raises(DiffRejected) as refused:
        workspace.apply_diff(patch, "many", limits=DiffLimits(max_files=29))
    assert str(refused.value) == ("diff rejected: the diff changes 30 files; the limit is 29 "
                                  "(MB_MAX_DIFF_FILES)")
    result = check_diff_cli(tmp_path, patch, env={"MB_MAX_DIFF_FILES": "29"})
    assert result.stderr.splitlines() == [f"error: {refused.value}"]


def test_a_huge_diff_file_is_refused_without_reading_it(mb_home, tmp_path):
    diff = tmp_path / "huge.diff"
    with diff.open("wb") as f:  # 50 MB, sparse: nothing of it needs reading to refuse it
        f.truncate(50 * 1024 * 1024)
    result = mb("check-diff", str(diff))
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        "error: diff rejected: the diff is 50.0 MB; the limit is 4.0 MB (MB_MAX_DIFF_BYTES)"]


def test_a_bad_limit_setting_is_one_line(mb_home, tmp_path):
    result = check_diff_cli(tmp_path, new_file("app/x.py", ["x"]), env={"MB_MAX_DIFF_BYTES": "lots"})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: MB_MAX_DIFF_BYTES must be a positive whole number, not 'lots'"]


def test_a_build_whose_diff_is_over_the_limit_fails_with_the_reason(mb_home):
    result = mb("build", "Build a CRM system with contacts and deals",
                env_extra={"MB_MAX_DIFF_BYTES": "20000"})
    err = result.stderr.decode().strip().splitlines()
    assert result.returncode == 1
    # One line: the reason, and that a refused diff is never retried (the build rolls back).
    assert len(err) == 1 and "diff rejected: the diff is " in err[0], err
    assert "; the limit is 20 KB (MB_MAX_DIFF_BYTES)" in err[0] and "rolled back" in err[0], err
    build_id = result.stdout.decode().split()[1]
    ws = mb_home / "workspaces" / build_id
    # Nothing of the refused diff is in the workspace: one commit, nothing tracked or left over.
    assert git(ws, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(ws, "ls-files") == "" and git(ws, "status", "--porcelain", "--ignored") == ""
    assert not (mb_home / "assets" / "diff").exists()
    status = mb("status", build_id)
    assert "rolled_back" in status.stdout.decode() and "MB_MAX_DIFF_BYTES" in status.stdout.decode()


def test_a_spec_of_too_many_words_is_refused_before_anything_is_made(mb_home, tmp_path):
    spec = tmp_path / "spec.txt"
    spec.write_text("Build a registry that manages " + ", ".join(f"item{i}" for i in range(6000)))
    result = mb("build", "-f", str(spec))
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        (f"error: spec file {spec} has 6005 words; the limit is 5000 (MB_MAX_SPEC_WORDS): a "
         "specification is prose, not data: describe the records and a few of their fields")]
    listing = mb("list")
    assert "no builds yet" in listing.stdout.decode()
    assert not (mb_home / "workspaces").exists() or not any((mb_home / "workspaces").iterdir())


TERMINAL_ATTACK = "\x1b]0;owned\x07\x1b[2J\x07\u009b31m\u202e"
RAW_CONTROLS = ("\x1b", "\x07", "\u009b", "\u202e")


def shown(result) -> str:
    text = result.stdout.decode() + result.stderr.decode()
    assert not [c for c in RAW_CONTROLS if c in text], text
    return text


def test_control_characters_from_a_spec_are_printed_escaped(mb_home):
    # The diff limit stops the build after its spec is read: quick, and the spec is there to show.
    result = mb("build", f"Build a ticket desk{TERMINAL_ATTACK} with tickets and agents",
                env_extra={"MB_MAX_DIFF_BYTES": "20000"})
    assert result.returncode == 1
    build_id = shown(result).split()[1]
    escaped = "\\x1b]0;owned\\x07\\x1b[2J\\x07\\x9b31m\\u202e"

    assert escaped in shown(mb("list"))
    status = mb("status", build_id)
    assert status.returncode == 0 and "failed" in shown(status)
    assert "ticket desk" in shown(mb("show", build_id, "spec"))  # readable, escaped
    spec = mb("show", build_id, "spec", "--json")
    assert spec.returncode == 0 and "ticket desk" in shown(spec)
    assert TERMINAL_ATTACK in json.loads(spec.stdout)["text"]  # escaped, and still valid JSON

    refused = mb("build", f"{TERMINAL_ATTACK} hello there")
    shown(refused)
    err = refused.stderr.decode().strip().splitlines()
    assert refused.returncode == 1 and len(err) == 1 and "Nothing buildable" in err[0], err
    assert escaped[:20] in err[0], err
    assert "\\x1b]0;owned" in shown(mb("status", f"{TERMINAL_ATTACK}b1"))


def test_what_is_escaped_and_what_is_kept():
    from mb_dagster.terminal import printable

    assert printable("tab\there\nnext") == "tab\there\nnext"
    assert printable("a\nb", one_line=True) == "a\\nb"
    assert printable("\x1b]0;t\x07\r\x7f") == "\\x1b]0;t\\x07\\r\\x7f"
