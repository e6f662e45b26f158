"""Quality gates: pure verdicts over test results, diffs and bandit reports, plus bandit for real."""

from __future__ import annotations

import sys

from mb_core.models import (
    EntitySpec,
    FieldSpec,
    FieldType,
    MigrationRevision,
    ScaffoldPlan,
    TestCaseResult,
    TestOutcome,
)
from mb_core.quality import (
    GATES,
    OPENAPI_PROBE,
    PII_PROBE,
    bandit_gate,
    category_counts,
    category_of,
    diff_gates,
    failed_errors,
    gate_failure_summary,
    generated_tests_gate,
    migrations_gate,
    openapi_gate,
    pii_gate,
    quality_checks,
    rbac_gate,
    run_bandit,
    tenant_gate,
)


def t(nodeid: str, outcome: str = "passed", message: str = "") -> TestCaseResult:
    return TestCaseResult(nodeid=nodeid, outcome=TestOutcome(outcome), message=message)


SUITE = [
    t("tests/test_entity_contact.py::test_create_read_update_delete"),
    t("tests/test_entity_contact.py::test_invalid_payload_is_422"),
    t("tests/test_entity_contact.py::test_role_without_permission_is_403"),
    t("tests/test_entity_contact.py::test_unauthenticated_is_401"),
    t("tests/test_entity_contact.py::test_other_tenant_rows_are_invisible"),
    t("tests/test_feature_status_workflow_deal.py::test_allowed_transition_succeeds"),
    t("tests/test_migrations.py::test_upgrade_head_then_downgrade_base"),
    t("tests/test_security.py::test_health_needs_no_token"),
]
PLAN = ScaffoldPlan(
    app_name="crm", title="CRM",
    entities=[EntitySpec(name="contact", plural="contacts", fields=[
        FieldSpec(name="name"), FieldSpec(name="email", type=FieldType.email, pii=True)])],
    migrations=[MigrationRevision(revision="0001", message="create", tables=["contact"])],
)


def patch_adding(path: str, *lines: str) -> str:
    body = "".join(f"+{line}\n" for line in lines)
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,{len(lines)} @@\n{body}")


def test_categories_of_generated_test_names():
    assert [category_of(x.nodeid) for x in SUITE] == [
        "crud", "validation", "rbac", "security", "tenant", "features", "migrations", "security"]
    assert category_of("mb_probes/test_pii.py::test_x") == "probe"
    counts = category_counts(SUITE + [t("tests/test_entity_deal.py::test_list_paginates", "failed")])
    assert counts["crud"] == {"total": 2, "passed": 1, "failed": 1}


def test_tests_pass_names_the_first_failure():
    assert generated_tests_gate(SUITE).passed
    failing = generated_tests_gate(SUITE + [t("tests/test_x.py::test_boom", "error", "kaput")])
    assert not failing.passed and "tests/test_x.py::test_boom" in failing.summary
    assert failing.evidence["failing"][0]["message"] == "kaput"
    assert not generated_tests_gate([]).passed
    assert "timeout" in generated_tests_gate(SUITE, timed_out=True).summary


def test_diff_gates_split_secrets_from_scope():
    clean_secrets, clean_scope = diff_gates(patch_adding("app/ok.py", "x = 1"))
    assert clean_secrets.passed and clean_scope.passed
    secrets, scope = diff_gates(patch_adding("app/keys.py", "-----BEGIN RSA PRIVATE KEY-----"))
    assert not secrets.passed and scope.passed
    assert "app/keys.py:1" in secrets.summary
    secrets, scope = diff_gates(patch_adding("etc/passwd", "root::0:0"))
    assert secrets.passed and not scope.passed
    assert scope.evidence["violations"][0]["rule"] == "outside_scope"


def test_category_gates_need_tests_that_exist_and_pass():
    assert rbac_gate(SUITE).passed and tenant_gate(SUITE).passed
    no_tenant = [x for x in SUITE if "tenant" not in x.nodeid]
    assert tenant_gate(no_tenant).summary == "no tenant isolation test was generated"
    broken = SUITE + [t("tests/test_entity_deal.py::test_other_tenant_rows_are_invisible", "failed",
                        "assert 1 == 0\nmore")]
    gate = tenant_gate(broken)
    assert not gate.passed
    assert "test_entity_deal.py::test_other_tenant_rows_are_invisible failed (assert 1 == 0)" in gate.summary


def test_migrations_gate_wants_files_and_a_downgrade_test():
    files = ["app/main.py", "migrations/versions/0001_create.py"]
    assert migrations_gate(files, SUITE, PLAN).passed
    assert "no migration revision" in migrations_gate(["app/main.py"], SUITE, PLAN).summary
    only_up = [x for x in SUITE if "migrations" not in x.nodeid] + [
        t("tests/test_migrations.py::test_migrations_match_the_models")]
    assert "up and down" in migrations_gate(files, only_up, PLAN).summary


def test_probe_gates():
    ok = [t(f"{OPENAPI_PROBE}::test_openapi_document_is_valid"),
          t(f"{OPENAPI_PROBE}::test_no_server_error")]
    assert openapi_gate(ok).passed
    bad = ok[:1] + [t(f"{OPENAPI_PROBE}::test_no_server_error", "failed",
                      "AssertionError: 1 of 9 operations failed: POST /deals: int too large")]
    gate = openapi_gate(bad)
    assert not gate.passed and "POST /deals" in gate.summary
    assert not openapi_gate([]).passed  # a probe that did not run proves nothing
    assert not pii_gate(PLAN, []).passed
    assert pii_gate(PLAN, [t(f"{PII_PROBE}::test_personal_data[contact]")]).passed
    no_pii = PLAN.model_copy(update={"entities": [EntitySpec(name="tag", plural="tags")]})
    assert pii_gate(no_pii, []).passed


def test_bandit_gate_counts_medium_and_high_only():
    report = {"results": [
        {"filename": "app/a.py", "line_number": 3, "test_id": "B101", "issue_severity": "LOW",
         "issue_text": "assert"},
        {"filename": "app/b.py", "line_number": 7, "test_id": "B602", "issue_severity": "HIGH",
         "issue_text": "shell=True"},
    ], "metrics": {"_totals": {"loc": 10}}}
    gate = bandit_gate(report)
    assert not gate.passed and "B602 app/b.py:7" in gate.summary
    assert gate.evidence["low_issues"] == 1
    assert bandit_gate({"results": report["results"][:1]}).passed
    assert not bandit_gate(None, "boom").passed


def test_run_bandit_on_a_real_tree(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "ok.py").write_text("def add(a, b):\n    return a + b\n")
    assert run_bandit(tmp_path).passed
    (tmp_path / "app" / "bad.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("import pickle\npickle.loads(b'')\n")
    gate = run_bandit(tmp_path)
    assert not gate.passed
    assert {i["file"] for i in gate.evidence["issues"]} == {"app/bad.py"}  # tests/ is not scanned


def test_quality_checks_cover_every_gate_and_summarise_failures():
    files = ["migrations/versions/0001_create.py"]
    probes = [t(f"{OPENAPI_PROBE}::test_no_server_error"), t(f"{PII_PROBE}::test_p[contact]")]
    checks = quality_checks(patch=patch_adding("app/ok.py", "x = 1"), files_changed=files,
                            tests=SUITE, probes=probes, plan=PLAN,
                            bandit=bandit_gate({"results": []}))
    assert [c.name for c in checks] == list(GATES)
    assert not failed_errors(checks) and gate_failure_summary(checks) == ""
    broken = quality_checks(patch=patch_adding("app/ok.py", "x = 1"), files_changed=files,
                            tests=[x for x in SUITE if "403" not in x.nodeid and "role" not in x.nodeid],
                            probes=[], plan=PLAN, bandit=bandit_gate({"results": []}))
    summary = gate_failure_summary(broken)
    assert summary.startswith("quality gate rbac_enforced failed: no RBAC denial test was generated")
    assert "openapi_valid" in summary and "pii_redacted" in summary


def _shadowing_tree(root, marker):
    """A tree whose files would run in place of bandit (or before it) if Python ever imported
    them: each writes the marker."""
    write = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (root / "app").mkdir(parents=True)
    (root / "app" / "bad.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)  # nosec\n")
    for name in ("bandit.py", "sitecustomize.py", "usercustomize.py", "stevedore.py", "yaml.py"):
        (root / name).write_text(write)
    (root / "app" / "hook.pth").write_text(f"import os; {write}")
    (root / "zz.pth").write_text(f"import os; {write}")
    # bandit's own project settings would skip every test: they are never read.
    (root / "app" / ".bandit").write_text("[bandit]\nskips = B602,B603,B604,B605,B607\nexclude = app\n")
    return root


def test_run_bandit_never_imports_the_tree_and_ignores_its_settings(tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    tree = _shadowing_tree(tmp_path / "tree", marker)
    # Even with the builder's environment pointing Python at the tree.
    monkeypatch.setenv("PYTHONPATH", str(tree))
    monkeypatch.setenv("PYTHONSTARTUP", str(tree / "bandit.py"))
    monkeypatch.chdir(tree)
    gate = run_bandit(tree)
    assert not marker.exists(), marker.read_text()
    assert not gate.passed  # `# nosec` and the tree's .bandit silence nothing
    assert ("app/bad.py", "B602") in [(i["file"], i["test"]) for i in gate.evidence["issues"]]


def test_tools_get_a_cleared_environment(tmp_path, monkeypatch):
    from mb_core.isolated_tools import python_tool_argv, run_tool

    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-shown")
    monkeypatch.setenv("MB_HOME", str(tmp_path))
    proc = run_tool(python_tool_argv("json.tool", "--help"), timeout_s=60)
    assert proc.returncode == 0
    code = "import os, sys; print(sorted(os.environ)); print(os.getcwd()); print(sys.flags.isolated)"
    shown = run_tool([sys.executable, "-I", "-c", code], timeout_s=60)
    lines = shown.stdout.decode().splitlines()
    assert lines[0] == str(sorted(["PATH", "HOME", "LANG", "LC_ALL"]))
    assert "mb-tool-" in lines[1] and lines[2] == "1"
