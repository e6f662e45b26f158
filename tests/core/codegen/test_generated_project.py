"""Each hand-written plan is rendered to a directory; the generated project must pass its own tests,
ruff and bandit, and hold a test of every category the brief asks for."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mb_core.codegen import render_all, resolve
from tests.core.codegen.conftest import PLANS

BIN = Path(sys.executable).parent


def write(files, root: Path) -> Path:
    for f in files:
        path = root / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content, encoding="utf-8")
    return root


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHONPATH"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module", params=sorted(PLANS))
def project(request, tmp_path_factory):
    plan = PLANS[request.param]()
    root = write(render_all(plan), tmp_path_factory.mktemp(request.param))
    return plan, root


def test_generated_tests_pass(project):
    _, root = project
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], root)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 25
    assert "failed" not in summary and "error" not in summary


def test_ruff_and_bandit_are_clean(project):
    _, root = project
    ruff = run([str(BIN / "ruff"), "check", "--no-cache", "."], root)
    assert ruff.returncode == 0, ruff.stdout[-4000:]
    bandit = run([str(BIN / "bandit"), "-q", "-r", "app", "-ll"], root)
    assert bandit.returncode == 0, bandit.stdout[-4000:]


def test_every_test_category_is_there(project):
    plan, root = project
    bp = resolve(plan)
    tests = {p.name: p.read_text(encoding="utf-8") for p in (root / "tests").glob("test_*.py")}
    for ent in bp.entities:
        body = tests[f"test_entity_{ent.name}.py"]
        for name in (
            "test_create_read_update_delete",
            "test_invalid_payload_is_422",
            "test_role_without_permission_is_403",
            "test_other_tenant_rows_are_invisible",
            "test_list_paginates",
        ):
            assert f"def {name}(" in body, (ent.name, name)
        for kind in ent.features:
            assert f"test_feature_{kind}_{ent.name}.py" in tests
    assert "def test_upgrade_head_then_downgrade_base(" in tests["test_migrations.py"]
    assert "def test_rate_limit_answers_429(" in tests["test_security.py"]
    assert "def test_audit_log_is_for_admins_only(" in tests["test_security.py"]
    if bp.links:
        assert "test_links.py" in tests
    # The generated migration test drives Alembic through its Python API, not a subprocess.
    assert "command.upgrade(" in tests["test_migrations.py"] and "subprocess" not in tests["test_migrations.py"]


def test_filter_and_search_tests_exist_where_the_model_allows(project):
    plan, root = project
    bp = resolve(plan)
    crm_like = {e.name for e in bp.entities if any(c.kind == "enum" for c in e.columns if c.in_create)}
    for name in crm_like:
        assert "def test_list_filters_exactly(" in (root / "tests" / f"test_entity_{name}.py").read_text()
