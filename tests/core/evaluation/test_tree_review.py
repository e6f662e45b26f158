"""The static review of a generated tree: what could rewrite the builder's verdict is found and
named, and an ordinary generated project raises nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mb_core.agents.base import AgentContext
from mb_core.evaluation.tree_review import review_python, review_tree
from mb_core.models import RiskFlag
from mb_core.pipeline import generate_files
from mb_core.providers.offline import OfflineProvider


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A real generated project (offline agents), written out as files."""
    from mb_core.agents.base import AgentRole, run_agent
    from mb_core.agents.io import ArchitectInput, DesignerInput, SecurityInput
    from mb_core.agents.registry import definition_for

    ctx = AgentContext(provider=OfflineProvider(), build_id="review")
    spec = run_agent(definition_for(AgentRole.product_architect),
                     ArchitectInput(text="Track suppliers and their purchase orders"), ctx)
    plan = run_agent(definition_for(AgentRole.system_designer), DesignerInput(spec=spec), ctx)
    plan = run_agent(definition_for(AgentRole.security), SecurityInput(plan=plan), ctx)
    files = generate_files(plan, ctx)
    root = tmp_path_factory.mktemp("generated")
    return _write(root, {f.path: f.content for f in files.files})


def test_an_ordinary_generated_project_has_no_finding(generated):
    assert (generated / "tests" / "conftest.py").is_file()
    assert review_tree(generated) == []


FORGING = '''
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
'''


@pytest.mark.parametrize("source,expected", [
    (FORGING, ["pytest_runtest_makereport", "hook implementation"]),
    ("def pytest_report_teststatus(report, config):\n    return 'passed', '.', 'PASSED'\n",
     ["pytest_report_teststatus"]),
    ("def pytest_collection_modifyitems(items):\n    items.clear()\n", ["pytest_collection_modifyitems"]),
    ("def pytest_sessionfinish(session):\n    session.exitstatus = 0\n", ["pytest_sessionfinish"]),
    ("pytest_plugins = ['tests.helpers']\n", ["pytest_plugins"]),
    ("def pytest_configure(config):\n    config.pluginmanager.register(object())\n",
     ["plugin machinery"]),
    ("import gc\nfound = gc.get_objects()\n", ["gc.get_objects"]),
    ("import pytest\npytest.TestReport.outcome = 'passed'\n", ["patches the test runner"]),
    ("import atexit\natexit.register(print)\n", ["atexit.register"]),
])
def test_report_altering_machinery_in_a_conftest_is_refused(source, expected):
    findings = review_python("tests/conftest.py", source)
    assert findings and all(f.blocking for f in findings)
    text = " ".join(f.evidence for f in findings)
    for word in expected:
        assert word in text, text
    assert {f.flag for f in findings} <= {RiskFlag.verdict_tampering}


def test_fixtures_and_markers_are_not_machinery():
    source = ("import pytest\n\n\n@pytest.fixture\ndef client():\n    return 1\n\n\n"
              "def pytest_configure(config):\n    config.addinivalue_line('markers', 'slow: slow')\n\n\n"
              "def pytest_generate_tests(metafunc):\n    pass\n")
    assert review_python("tests/conftest.py", source) == []


def test_application_code_must_not_reach_the_test_runner():
    assert review_python("app/main.py", "import _pytest.reports\n")
    assert review_python("app/main.py", "from pluggy import HookimplMarker\n")
    assert review_python("app/routers/x.py", "import importlib\nm = importlib.import_module(name)\n")
    # pytest itself is ordinary in a test module; its internals are not.
    assert review_python("tests/test_x.py", "import pytest\nfrom pytest import MonkeyPatch\n") == []
    assert review_python("tests/conftest.py", "from _pytest import reports\n")
    assert review_python("app/routers/__init__.py", "import importlib\nm = importlib.import_module('app.x')\n") == []


def test_shadowing_modules_and_start_up_hooks_are_refused(generated, tmp_path):
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(generated, tree)
    _write(tree, {"bandit.py": "", "alembic.py": "", "ruff/__init__.py": "", "sitecustomize.py": "",
                  "app/usercustomize.py": "", "app/hook.pth": "import os", "json.py": "",
                  "app/yaml.py": "",  # inside the app package: imported as app.yaml, shadows nothing
                  "pytest.ini": "[pytest]\naddopts = -p tests.helpers\n"})
    found = {f.path: f for f in review_tree(tree)}
    for rel in ("bandit.py", "alembic.py", "ruff", "sitecustomize.py", "app/usercustomize.py",
                "app/hook.pth", "json.py"):
        assert found[rel].flag == RiskFlag.tool_shadowing and found[rel].blocking, rel
    assert "app/yaml.py" not in found
    assert found["pytest.ini"].flag == RiskFlag.verdict_tampering
    assert "addopts" in found["pytest.ini"].evidence
