from __future__ import annotations

import subprocess

import pytest

from mb_core.diff_safety import DEFAULT_SCOPE, WriteScope, check_diff, diff_stats
from mb_core.errors import DiffRejected


def new_file(path: str, body: str) -> str:
    lines = body.splitlines()
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines))


def rules(patch: str, scope: WriteScope = DEFAULT_SCOPE) -> list[str]:
    return [v.rule for v in check_diff(patch, scope)]


ORDINARY_CODE = """\
import os
import secrets

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///./app.db")
API_KEY_HEADER = "X-API-Key"


def make_token() -> str:
    return secrets.token_urlsafe(32)


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
"""

ORDINARY_TEST = """\
import secrets


def test_login(client):
    password = secrets.token_urlsafe(16)
    client.post("/users", json={"email": "a@example.com", "password": password})
    resp = client.post("/login", json={"email": "a@example.com", "password": password})
    assert resp.status_code == 200
"""


def test_ordinary_generated_code_passes():
    patch = (new_file("app/config.py", ORDINARY_CODE) + new_file("tests/test_auth.py", ORDINARY_TEST)
             + new_file("README.md", "# CRM\n\nRun `make test`.\n")
             + new_file(".env.example", "SECRET_KEY=\nDATABASE_URL=sqlite:///./app.db\n"
                        "ACCESS_TOKEN_EXPIRE_MINUTES=30\nADMIN_PASSWORD=change-me\n")
             + new_file(".github/workflows/ci.yml", "env:\n  SECRET_KEY: ${{ secrets.SECRET_KEY }}\n"
                        "  DATABASE_URL: postgresql://postgres:postgres@localhost:5432/app\n"))
    assert check_diff(patch) == []


@pytest.mark.parametrize("path,rule", [
    ("../x.py", "parent_segment"),
    ("app/../../x.py", "parent_segment"),
    ("/etc/x", "absolute_path"),
    (".git/config", "git_dir"),
    ("app/.git/hooks/pre-commit", "git_dir"),
    (".env", "denied_path"),
    ("app/.env.local", "denied_path"),
    ("certs/server.pem", "denied_path"),
    ("app/server.key", "denied_path"),
    ("app/id_rsa", "denied_path"),
    ("lib/x.py", "outside_scope"),
    ("app", "outside_scope"),
])
def test_path_rules(path, rule):
    assert rules(new_file(path, "x = 1\n")) == [rule]


def test_allowed_paths_of_the_usual_tree():
    for path in ["app/models/contact.py", "tests/test_contacts.py", "migrations/versions/0001.py",
                 "main.py", "README.md", "requirements.txt", "pyproject.toml", "alembic.ini",
                 "Dockerfile", ".dockerignore", ".gitignore", ".env.example",
                 ".github/workflows/ci.yml", "scripts/seed.py"]:
        assert check_diff(new_file(path, "x = 1\n")) == [], path


def test_a_custom_scope_replaces_the_default():
    scope = WriteScope(allow=["lib/**"], deny=["lib/secret/**"])
    assert rules(new_file("lib/x.py", "x = 1\n"), scope) == []
    assert rules(new_file("app/x.py", "x = 1\n"), scope) == ["outside_scope"]
    assert rules(new_file("lib/secret/x.py", "x = 1\n"), scope) == ["denied_path"]


def test_absolute_target_without_git_prefix():
    patch = "--- a/app/x.py\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n"
    assert "absolute_path" in rules(patch)


def test_rename_out_of_the_tree_is_caught_from_the_header():
    patch = ("diff --git a/app/x.py b/../x.py\nsimilarity index 100%\n"
             "rename from app/x.py\nrename to ../x.py\n")
    assert "parent_segment" in rules(patch)


def test_private_key_block_in_an_added_line():
    body = 'KEY = """\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n"""\n'
    violations = check_diff(new_file("app/keys.py", body))
    assert [(v.rule, v.line) for v in violations] == [("private_key", 2)]
    assert "MIIE" not in violations[0].message


def test_private_key_in_a_removed_line_is_not_a_violation():
    patch = ("diff --git a/app/k.py b/app/k.py\n--- a/app/k.py\n+++ b/app/k.py\n@@ -1,2 +1,1 @@\n"
             " x = 1\n-KEY = '-----BEGIN RSA PRIVATE KEY-----'\n")
    assert check_diff(patch) == []


@pytest.mark.parametrize("line", [
    'AWS_KEY = "AKIAIOSFODNN7EXAMPLQ"',
    'GITHUB = "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB"',
    'SLACK = "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx"',
    'password = "hunter2hunter2"',
    'JWT_SECRET = "8f4b2e7a9c1d3f5e6a7b8c9d0e1f2a3b4c5d6e7f8a9b"',
])
def test_secrets_in_added_lines(line):
    violations = check_diff(new_file("app/settings.py", f"import os\n{line}\n"))
    assert [(v.rule, v.line) for v in violations] == [("secret", 2)]
    assert line.split('"')[1] not in violations[0].message


def test_env_example_with_a_secret_value():
    violations = check_diff(new_file(".env.example", "DEBUG=true\nSECRET_KEY=s3cr3t-Value-42\n"))
    assert [(v.rule, v.line) for v in violations] == [("env_value", 2)]
    assert "SECRET_KEY" in violations[0].message and "s3cr3t" not in violations[0].message


def test_env_example_with_credentials_in_a_url():
    violations = check_diff(new_file(".env.example",
                                     "DATABASE_URL=postgresql://app:Xk29vLq8zP@db:5432/app\n"))
    assert [v.rule for v in violations] == ["secret"]


def git(cwd, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                          check=True, capture_output=True).stdout.decode()


def test_binary_symlink_and_mode_from_real_git(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "run.py").write_text("print(1)\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "one")
    (tmp_path / "app" / "blob.py").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "app" / "link.py").symlink_to("/etc/passwd")
    (tmp_path / "app" / "run.py").chmod(0o755)
    git(tmp_path, "add", "-A")
    patch = git(tmp_path, "diff", "--cached", "--binary")
    found = {(v.path, v.rule) for v in check_diff(patch)}
    assert found == {("app/blob.py", "binary"), ("app/link.py", "symlink_or_special_mode")}


def test_quoted_git_paths_are_unquoted(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "one")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "caf\u00e9 menu.py").write_text("x = 1\n")
    git(tmp_path, "add", "-A")
    patch = git(tmp_path, "diff", "--cached")
    assert '"b/app/caf\\303\\251 menu.py"' in patch
    assert check_diff(patch) == []
    assert diff_stats(patch).files_changed == ["app/caf\u00e9 menu.py"]


def test_unparseable_diff_is_one_violation():
    assert [v.rule for v in check_diff("this is not a diff\n")] == ["unparseable"]
    assert [v.rule for v in check_diff("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n")] == ["unparseable"]
    assert check_diff("") == []


def test_diff_stats():
    patch = new_file("app/a.py", "a\nb\n") + (
        "diff --git a/app/b.py b/app/b.py\n--- a/app/b.py\n+++ b/app/b.py\n@@ -1,2 +1,2 @@\n"
        " keep\n-old\n+new\n")
    files, added, removed = diff_stats(patch)
    assert (files, added, removed) == (["app/a.py", "app/b.py"], 3, 1)
    with pytest.raises(DiffRejected, match="not a readable unified diff"):
        diff_stats("nonsense")
