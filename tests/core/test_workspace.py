from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mb_core.errors import DiffApplyFailed, DiffRejected, WorkspaceError
from mb_core.models import GeneratedFile, GeneratedFiles
from mb_core.workspace import Workspace


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=u", "-c", "user.email=u@u", *args], cwd=cwd,
                          check=True, capture_output=True).stdout.decode()


def snapshot(path: Path) -> tuple[str, str, str, dict[str, bytes]]:
    """HEAD, index, status and every file outside .git: what "unchanged" means here."""
    files = {p.relative_to(path).as_posix(): p.read_bytes()
             for p in sorted(path.rglob("*")) if p.is_file() and ".git" not in p.relative_to(path).parts}
    return (git(path, "rev-parse", "HEAD"), git(path, "ls-files", "-s"),
            git(path, "status", "--porcelain", "--untracked-files=all"), files)


def gen(*files: tuple[str, str], deleted: list[str] | None = None) -> GeneratedFiles:
    return GeneratedFiles(files=[GeneratedFile(path=p, content=c) for p, c in files],
                          deleted=deleted or [])


@pytest.fixture
def user_repo(tmp_path) -> Path:
    repo = tmp_path / "user-repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "trunk")
    (repo / "app").mkdir()
    (repo / "app" / "__init__.py").write_text("")
    (repo / "app" / "main.py").write_text("print('hello')\n")
    (repo / "scripts").mkdir()
    (repo / "scripts" / "run.sh").write_text("#!/bin/sh\n")
    (repo / "scripts" / "run.sh").chmod(0o755)
    (repo / "logo.bin").write_bytes(b"\x89PNG\x00\x01")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "user work")
    (repo / "notes.txt").write_text("uncommitted, untracked\n")
    return repo


def test_fresh_workspace(tmp_path):
    ws = Workspace.create(tmp_path / "ws")
    assert len(ws.head()) == 40
    assert ws.files() == {}
    assert git(ws.path, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert git(ws.path, "log", "-1", "--format=%an <%ae>").strip() == "Meta-Builder <builder@localhost>"
    assert git(ws.path, "config", "--local", "user.email").strip() == "builder@localhost"
    reopened = Workspace(tmp_path / "ws")
    assert reopened.head() == ws.head()


def test_clone_keeps_the_source_untouched(tmp_path, user_repo):
    before = snapshot(user_repo)
    refs_before = git(user_repo, "for-each-ref")
    ws = Workspace.create(tmp_path / "ws", source=user_repo)
    assert ws.head() == before[0].strip()
    assert ws.files() == {"app/__init__.py": "", "app/main.py": "print('hello')\n", "scripts/run.sh": "#!/bin/sh\n"}
    patch = ws.render_diff(gen(("app/main.py", "print('generated')\n"), ("app/crm.py", "x = 1\n")))
    ws.apply_diff(patch, "generated")
    ws.rollback(before[0].strip())
    ws.remove()
    assert not (tmp_path / "ws").exists()
    assert snapshot(user_repo) == before
    assert git(user_repo, "for-each-ref") == refs_before


def test_create_refuses_bad_input(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(WorkspaceError, match="is not a git repository"):
        Workspace.create(tmp_path / "ws", source=plain)
    assert not (tmp_path / "ws").exists()
    with pytest.raises(WorkspaceError, match="is not a git repository"):
        Workspace.create(tmp_path / "ws", source=tmp_path / "missing")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "file").write_text("x")
    with pytest.raises(WorkspaceError, match="not empty"):
        Workspace.create(busy)
    with pytest.raises(WorkspaceError, match="not the top of a git repository"):
        Workspace(plain)


def test_render_diff_and_apply_round_trip(tmp_path, user_repo):
    ws = Workspace.create(tmp_path / "ws", source=user_repo)
    base = ws.head()
    tree_before = snapshot(ws.path)
    generated = gen(("app/main.py", "print('generated')\n"), ("app/models/contact.py", "class Contact: ...\n"),
                    ("README.md", "# CRM"), ("scripts/run.sh", "#!/bin/sh\necho run\n"),
                    deleted=["app/__init__.py", "not/there.py"])
    patch = ws.render_diff(generated)
    # Rendering touches neither the working tree nor the index, and is deterministic.
    assert snapshot(ws.path) == tree_before
    assert ws.render_diff(generated) == patch
    assert "new file mode 100644" in patch and "+++ b/app/models/contact.py" in patch
    assert "deleted file mode 100644" in patch

    head = ws.apply_diff(patch, "Generated CRM")
    assert head != base and ws.head() == head
    files = ws.files()
    assert files["app/main.py"] == "print('generated')\n"
    assert files["README.md"] == "# CRM"
    assert "app/__init__.py" not in files
    assert git(ws.path, "ls-files", "-s", "scripts/run.sh").startswith("100755")  # mode kept
    assert git(ws.path, "status", "--porcelain") == ""
    assert git(ws.path, "log", "-1", "--format=%s").strip() == "Generated CRM"
    # Applied content is exactly what was generated: nothing left to render.
    assert ws.render_diff(generated) == ""

    # The same patch applies with plain `git apply` on a second clone of the same base.
    other = Workspace.create(tmp_path / "other", source=user_repo)
    subprocess.run(["git", "apply", "--check"], input=patch.encode(), cwd=other.path, check=True)


def test_render_diff_of_nothing_new_is_empty(tmp_path, user_repo):
    ws = Workspace.create(tmp_path / "ws", source=user_repo)
    assert ws.render_diff(gen(("app/main.py", "print('hello')\n"))) == ""
    assert ws.render_diff(gen()) == ""
    assert ws.apply_diff("", "nothing") == ws.head()


def test_render_diff_refuses_unsafe_generated_paths(tmp_path):
    ws = Workspace.create(tmp_path / "ws")
    for path in ["../escape.py", "/etc/passwd", ".git/hooks/post-commit"]:
        with pytest.raises(DiffRejected):
            ws.render_diff(gen((path, "x\n")))


def _new_file(path: str, body: str) -> str:
    lines = body.splitlines()
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines))


@pytest.mark.parametrize("path,body,rule_word", [
    ("../x", "x = 1\n", "'..'"),
    ("/etc/x", "x = 1\n", "absolute"),
    (".git/config", "[core]\n", ".git"),
    ("app/keys.py", "K = '''\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n'''\n", "private key"),
    (".env", "SECRET_KEY=abc123\n", ".env"),
])
def test_rejected_diffs_change_nothing(tmp_path, user_repo, path, body, rule_word):
    ws = Workspace.create(tmp_path / "ws", source=user_repo)
    before = snapshot(ws.path)
    # A good file first, so a partial apply would show.
    patch = _new_file("app/good.py", "ok = True\n") + _new_file(path, body)
    with pytest.raises(DiffRejected) as caught:
        ws.apply_diff(patch, "bad")
    assert rule_word in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.violations
    assert snapshot(ws.path) == before
    assert not (tmp_path / "x").exists()


def test_diff_that_does_not_apply_changes_nothing(tmp_path, user_repo):
    ws = Workspace.create(tmp_path / "ws", source=user_repo)
    before = snapshot(ws.path)
    patch = _new_file("app/new.py", "x = 1\n") + (
        "diff --git a/app/main.py b/app/main.py\n--- a/app/main.py\n+++ b/app/main.py\n"
        "@@ -1 +1 @@\n-print('something else')\n+print('changed')\n")
    with pytest.raises(DiffApplyFailed, match="does not apply"):
        ws.apply_diff(patch, "stale")
    assert snapshot(ws.path) == before
    assert not (ws.path / "app" / "new.py").exists()


def test_apply_refuses_a_dirty_workspace(tmp_path, user_repo):
    ws = Workspace.create(tmp_path / "ws", source=user_repo)
    (ws.path / "app" / "main.py").write_text("edited by hand\n")
    with pytest.raises(WorkspaceError, match="uncommitted changes"):
        ws.apply_diff(_new_file("app/new.py", "x = 1\n"), "gen")
    assert (ws.path / "app" / "main.py").read_text() == "edited by hand\n"


def test_rollback_restores_the_tree(tmp_path, user_repo):
    ws = Workspace.create(tmp_path / "ws", source=user_repo)
    base = ws.head()
    before = snapshot(ws.path)
    ws.apply_diff(ws.render_diff(gen(("app/crm.py", "x = 1\n"))), "one")
    ws.apply_diff(ws.render_diff(gen(("app/crm.py", "x = 2\n"), ("tests/test_crm.py", "y\n"))), "two")
    # Leftovers of a half-finished step: an edit, an untracked file and an ignored cache.
    (ws.path / "app" / "main.py").write_text("half written")
    (ws.path / "app" / "scratch.db").write_text("rows")
    (ws.path / ".gitignore").write_text("__pycache__/\n")
    (ws.path / "app" / "__pycache__").mkdir()
    (ws.path / "app" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    ws.rollback(base)
    assert snapshot(ws.path) == before
    with pytest.raises(WorkspaceError, match="not a commit"):
        ws.rollback("0" * 40)


def test_export_writes_head_only(tmp_path, user_repo):
    ws = Workspace.create(tmp_path / "ws", source=user_repo)
    (ws.path / "untracked.txt").write_text("not exported")
    dest = ws.export(tmp_path / "out" / "tree")
    exported = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert exported == ["app/__init__.py", "app/main.py", "logo.bin", "scripts/run.sh"]
    assert (dest / "logo.bin").read_bytes() == b"\x89PNG\x00\x01"
    assert (dest / "scripts" / "run.sh").stat().st_mode & 0o111
    with pytest.raises(WorkspaceError, match="not empty"):
        ws.export(dest)


def committed_tree(ws: Workspace) -> dict[str, bytes]:
    """Every regular file at HEAD with the bytes the commit holds (read blob by blob)."""
    out = {}
    for line in git(ws.path, "ls-tree", "-r", "--full-tree", "HEAD").splitlines():
        meta, name = line.split("\t", 1)
        mode, _, sha = meta.split()
        if mode in ("100644", "100755"):
            out[name] = subprocess.run(["git", "cat-file", "blob", sha], cwd=ws.path, check=True,
                                       capture_output=True).stdout
    return out


def exported_tree(dest: Path) -> dict[str, bytes]:
    return {p.relative_to(dest).as_posix(): p.read_bytes()
            for p in sorted(dest.rglob("*")) if p.is_file() and not p.is_symlink()}


def test_export_is_the_committed_tree_whatever_gitattributes_say(tmp_path):
    ws = Workspace.create(tmp_path / "ws")
    ws.apply_diff(ws.render_diff(gen(
        ("tests/.gitattributes", "* export-ignore\n"),
        ("app/.gitattributes", "hidden.py export-ignore\nstamp.py export-subst\n*.txt text eol=crlf\n"),
        ("app/hidden.py", "import os\nos.system('echo not seen by the checks')\n"),
        ("app/stamp.py", "BUILT = '$Format:%H %ae$'\n"),
        ("app/notes.txt", "line one\nline two\n"),
        ("tests/test_app.py", "def test_it():\n    assert True\n"),
    )), "generated, with attributes")
    dest = ws.export(tmp_path / "tree")
    committed = committed_tree(ws)
    assert exported_tree(dest) == committed
    assert {"app/hidden.py", "tests/test_app.py"} <= set(committed)
    assert (dest / "app" / "stamp.py").read_text() == "BUILT = '$Format:%H %ae$'\n"
    assert (dest / "app" / "notes.txt").read_bytes() == b"line one\nline two\n"


def test_export_keeps_modes_and_inner_links_and_drops_outer_ones(tmp_path, user_repo):
    (user_repo / "app" / "alias.py").symlink_to("main.py")
    (user_repo / "app" / "passwd").symlink_to("/etc/passwd")
    (user_repo / "app" / "up").symlink_to("../../outside")
    git(user_repo, "add", "-A")
    git(user_repo, "commit", "-q", "-m", "links")
    ws = Workspace.create(tmp_path / "ws", source=user_repo)
    dest = ws.export(tmp_path / "tree")
    assert exported_tree(dest) == committed_tree(ws)
    assert (dest / "app" / "alias.py").is_symlink() and (dest / "app" / "alias.py").read_text() == "print('hello')\n"
    assert not (dest / "app" / "passwd").exists() and not (dest / "app" / "passwd").is_symlink()
    assert not (dest / "app" / "up").is_symlink()
    assert (dest / "scripts" / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (dest / "app" / "main.py").stat().st_mode & 0o777 == 0o644
