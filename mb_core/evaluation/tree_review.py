"""Static review of a generated tree for anything that could rewrite the builder's verdict.

The generated tests run with the generated conftest.py: that is what they are. But pytest lets a
conftest or a plugin rewrite outcomes (a `pytest_runtest_makereport` hookwrapper turns a failure
into a pass), and Python lets a file named like a tool (`bandit.py`, `alembic.py`) or a start-up
hook (`sitecustomize.py`, a `.pth` file) run in place of the real thing. None of that belongs in a
generated business application, so finding it is a safety finding: a named risk flag and a
blocking quality gate (`harness_intact`), whatever the tests then say.

The review reads the tree's files (Python through `ast`, pytest settings through their own
parsers); it never imports or runs them. Pure apart from reading the tree.
"""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import sys
import tomllib
from functools import lru_cache
from pathlib import Path

from mb_core.models import RiskFinding, RiskFlag

# Hooks a generated suite has a use for; every other `pytest_*` function is machinery that can
# change what runs or what is reported (makereport, report_teststatus, runtest_logreport,
# collection_modifyitems, sessionfinish, pyfunc_call, ...).
HARMLESS_HOOKS = frozenset({"pytest_generate_tests", "pytest_addoption", "pytest_configure",
                            "pytest_assertrepr_compare"})
# Names that reach into pytest's or pluggy's own objects.
MACHINERY_ATTRIBUTES = frozenset({"pluginmanager", "hookimpl", "hookwrapper", "HookimplMarker",
                                  "register_assert_rewrite", "hook"})
# Reaching into the interpreter's own tables (how code finds and patches objects it was not
# given), or running code after pytest has written its report.
INTROSPECTION_CALLS = frozenset({("gc", "get_objects"), ("gc", "get_referrers"),
                                 ("sys", "_getframe"), ("sys", "settrace"), ("sys", "setprofile"),
                                 ("sys", "addaudithook"), ("atexit", "register")})
TEST_RUNNER_MODULES = frozenset({"pytest", "_pytest", "pluggy", "py"})
# pytest's internals: a generated suite needs only pytest's public API.
RUNNER_INTERNALS = frozenset({"_pytest", "pluggy"})
START_UP_HOOKS = frozenset({"sitecustomize.py", "usercustomize.py"})
# Modules a generated project itself may place at the top of its import path.
PROJECT_MODULES = frozenset({"app", "tests", "migrations", "seed", "scripts", "docs", "conftest"})
PYTEST_CONFIG_KEYS = frozenset({"addopts", "required_plugins", "pytest_plugins"})


@lru_cache(maxsize=1)
def known_module_names() -> frozenset[str]:
    """Top-level modules of the standard library and of every installed distribution."""
    names = set(sys.stdlib_module_names)
    names.update(importlib.metadata.packages_distributions())
    names.update(name.replace("-", "_").lower() for name in
                 (d.metadata["Name"] or "" for d in importlib.metadata.distributions()) if name)
    return frozenset(n for n in names if n and not n.startswith("__"))


def _is_test_file(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return rel.startswith("tests/") or name == "conftest.py" or name.startswith("test_")


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def review_python(rel: str, source: str) -> list[RiskFinding]:
    """Findings in one Python file (`rel`: its path in the tree)."""
    try:
        tree = ast.parse(source, filename=rel)
    except (SyntaxError, ValueError):
        return []  # not Python the interpreter would run either; the tests will say so
    found: list[RiskFinding] = []

    def flag(node: ast.AST, evidence: str, kind: RiskFlag = RiskFlag.verdict_tampering) -> None:
        found.append(RiskFinding(flag=kind, path=rel, line=getattr(node, "lineno", None),
                                 evidence=evidence, blocking=True))

    app_code = not _is_test_file(rel)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("pytest_") and node.name not in HARMLESS_HOOKS:
                flag(node, f"defines the pytest hook {node.name}, which can change what runs or "
                           "what is reported")
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if _dotted(target).rsplit(".", 1)[-1] in {"hookimpl", "hookwrapper"}:
                    flag(decorator, f"{node.name} is registered as a pytest hook implementation")
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id == "pytest_plugins":
                    flag(node, "sets pytest_plugins, loading plugins into the test run")
                if isinstance(target, ast.Subscript) and _dotted(target.value) == "sys.modules":
                    flag(node, "replaces an entry of sys.modules", RiskFlag.tool_shadowing)
                if isinstance(target, ast.Attribute) and \
                        _dotted(target).split(".")[0] in TEST_RUNNER_MODULES | RUNNER_INTERNALS:
                    flag(node, f"patches the test runner ({_dotted(target)})")
        elif isinstance(node, ast.Attribute) and node.attr in MACHINERY_ATTRIBUTES:
            if node.attr != "hook" or _dotted(node.value).endswith(("config", "session")):
                flag(node, f"reaches pytest's plugin machinery ({_dotted(node)})")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if tuple(name.split(".")[-2:]) in INTROSPECTION_CALLS:
                flag(node, f"calls {name}, which finds or patches objects it was not given")
            if app_code and name in {"__import__", "importlib.import_module", "import_module"} and \
                    not (node.args and isinstance(node.args[0], ast.Constant)):
                flag(node, f"imports a module whose name is computed at run time ({name})")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""])
            for module in modules:
                top = module.split(".")[0]
                if top in RUNNER_INTERNALS:
                    flag(node, f"imports pytest's internals ({module})")
                elif app_code and top in TEST_RUNNER_MODULES:
                    flag(node, f"application code imports the test runner ({module})")
    return found


def _pytest_config_findings(rel: str, text: str) -> list[RiskFinding]:
    name = rel.rsplit("/", 1)[-1]
    options: dict[str, str] = {}
    try:
        if name == "pyproject.toml":
            tool = tomllib.loads(text).get("tool", {}).get("pytest", {})
            section = tool.get("ini_options", tool) if isinstance(tool, dict) else {}
            options = {k: str(v) for k, v in section.items()} if isinstance(section, dict) else {}
        else:
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(text)
            for section in ("pytest", "tool:pytest"):
                if parser.has_section(section):
                    options.update(parser.items(section))
    except (tomllib.TOMLDecodeError, configparser.Error, UnicodeDecodeError):
        return []
    return [RiskFinding(flag=RiskFlag.verdict_tampering, path=rel, evidence=(
        f"pytest setting {key} loads plugins or options into the test run: {value[:80]!r}"),
        blocking=True) for key, value in options.items() if key in PYTEST_CONFIG_KEYS]


def _path_findings(rel: str, is_dir: bool, import_roots: set[str]) -> list[RiskFinding]:
    parent, _, name = rel.rpartition("/")
    if name in START_UP_HOOKS or name.endswith(".pth"):
        return [RiskFinding(flag=RiskFlag.tool_shadowing, path=rel, blocking=True,
                            evidence="an interpreter start-up hook: Python runs it before any tool")]
    module = name if is_dir else name[:-3] if name.endswith(".py") else ""
    if parent in import_roots and module and module not in PROJECT_MODULES \
            and module.lower() in known_module_names():
        return [RiskFinding(flag=RiskFlag.tool_shadowing, path=rel, blocking=True,
                            evidence=f"shadows the installed module {module!r} for code run from "
                                     "this folder")]
    return []


def review_tree(tree: Path) -> list[RiskFinding]:
    """Every finding in the tree, in path order."""
    tree = Path(tree)
    # Folders whose entries are importable by name: the root, and tests/ when it is not a package
    # (pytest then puts tests/ itself on sys.path).
    import_roots = {""} | ({"tests"} if (tree / "tests").is_dir()
                           and not (tree / "tests" / "__init__.py").exists() else set())
    found: list[RiskFinding] = []
    for path in sorted(tree.rglob("*")):
        rel = path.relative_to(tree).as_posix()
        if rel.split("/")[0] == ".git" or path.is_symlink():
            continue
        found += _path_findings(rel, path.is_dir(), import_roots)
        if not path.is_file():
            continue
        if path.suffix == ".py":
            found += review_python(rel, path.read_text(encoding="utf-8", errors="replace"))
        elif path.name in {"pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml"}:
            found += _pytest_config_findings(rel, path.read_text(encoding="utf-8", errors="replace"))
    return found
