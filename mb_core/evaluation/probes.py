"""Where the builder's verdict comes from, so that generated code cannot write it.

A build is judged on two runs in the sandbox, each over its own scratch copy of the tree:

1. The generated suite, under the builder's pytest configuration: `-c` names the builder's own
   ini file (the tree's pytest.ini, setup.cfg or pyproject settings, with their `addopts` and
   `-p`, are never read), `--rootdir` is the project, plugin autoloading is off and pytest
   starts as `python -I` (a `pytest.py` in the tree shadows nothing). The generated conftest.py
   still loads: its fixtures are the suite. Whatever it could do to the reports is caught before
   the run by the static review (mb_core.evaluation.tree_review): report-altering hooks, plugins,
   shadowing modules and start-up hooks are a blocking safety finding, not a test result.

2. The builder's probes (OpenAPI/schemathesis, PII), apart from everything generated: pytest
   runs from the builder's harness folder with `--noconftest`, the builder's ini and its one
   plugin; the generated application is served by uvicorn in a child process on a Unix socket
   and the probes reach it over HTTP. The probe process never imports generated code. It makes
   itself non-dumpable (the application, with the same uid, can neither ptrace it nor open its
   /proc descriptors) and reports through a copy of its stdout, taken before anything ran, which
   the sandbox writes to a file outside everything the sandbox sees. Each result line carries a
   key the builder made for this run, read and deleted by the harness before the application
   starts; a line without it is ignored and a result given twice counts as tampering. The junit
   file, which the application could reach, is not read for the probes. A route answering 500 fails the probe
   whatever the generated conftest says, because no generated conftest is loaded there.

Why not only a static review: a review finds the machinery it knows of; separating the probes
makes the builder's own checks independent of what the review might miss. Why not serving the
application for the generated suite too: the suite is the generated code's own account of
itself, written against its in-process fixtures; what it says is corroborated by the probes and
the gates, not trusted as the builder's word.
"""

from __future__ import annotations

import json
import os
import secrets
from importlib import resources

from mb_core.models import ScaffoldPlan, TestCaseResult, TestOutcome
from mb_core.quality import OPENAPI_PROBE, PII_PROBE, PROBE_PREFIX, pii_fields
from mb_core.sandbox import Harness, PytestRun

RESULT_MARK = "MB-PROBE-RESULT "
PROBES_FOLDER = PROBE_PREFIX.rstrip("/")  # the harness's folder of probe tests: "mb_probes"

# The builder's pytest settings for the generated suite. `pythonpath` is an absolute path
# because pytest reads it relative to the ini file, which lives beside the project.
SUITE_INI = """[pytest]
pythonpath = {project}
filterwarnings =
    ignore:Dialect sqlite\\+pysqlite does \\*not\\* support Decimal objects natively
"""
PROBE_INI = "[pytest]\n"


def _harness_source(name: str) -> str:
    return resources.files("mb_core.evaluation.harness").joinpath(name).read_text(encoding="utf-8")


def pii_cases(plan: ScaffoldPlan) -> list[tuple[str, str, list[str]]]:
    """(entity, create path, personal data fields) for every entity holding personal data."""
    create_paths = {ep.entity: ep.path for ep in plan.endpoints
                    if ep.method == "POST" and ep.action == "create" and ep.entity}
    plurals = {e.name: e.plural for e in plan.entities}
    # Without planned endpoints, the generated application serves each entity at /<plural>.
    return [(entity, create_paths.get(entity, f"/{plurals[entity]}"), fields)
            for entity, fields in pii_fields(plan).items()]


def probe_files(plan: ScaffoldPlan | None) -> dict[str, str]:
    """Harness path -> source of every probe that applies to this plan."""
    files = {OPENAPI_PROBE: _harness_source("openapi_probe.py")}
    cases = pii_cases(plan) if plan is not None else []
    if cases:
        files[PII_PROBE] = _harness_source("pii_probe.py")
    files[f"{PROBES_FOLDER}/cases.json"] = json.dumps(cases)
    return files


# The only plugin a generated suite gets (autoloading is off): anyio's, for async tests.
SUITE_PLUGINS = ("anyio.pytest_plugin",)


def suite_run(h: Harness) -> PytestRun:
    """`prepare` for the generated suite: the builder's ini, the project as rootdir."""
    (h.host_dir / "pytest.ini").write_text(SUITE_INI.format(project=h.project), encoding="utf-8")
    target = h.project / "tests" if (h.host_project / "tests").is_dir() else h.project
    plugins = [arg for name in SUITE_PLUGINS for arg in ("-p", name)]
    return PytestRun(["-m", "pytest"],
                     [*plugins, "-c", str(h.inside_dir / "pytest.ini"), "--rootdir", str(h.project),
                      str(target)])


class ProbeRun:
    """`prepare` for the probe run (the harness, its probes, no generated pytest machinery), and
    the key its results must carry."""

    KEY_FILE = "probe.key"

    def __init__(self, plan: ScaffoldPlan | None):
        self.plan = plan
        self.key = secrets.token_hex(16)

    def __call__(self, h: Harness) -> PytestRun:
        host, inside = h.host_dir, h.inside_dir
        (host / PROBES_FOLDER).mkdir()
        for name in ("runner.py", "launcher.py"):
            (host / name).write_text(_harness_source(name), encoding="utf-8")
        (host / "mb_probe_plugin.py").write_text(_harness_source("plugin.py"), encoding="utf-8")
        for rel, source in probe_files(self.plan).items():
            (host / rel).write_text(source, encoding="utf-8")
        (host / "pytest.ini").write_text(PROBE_INI, encoding="utf-8")
        # In the run folder, which the sandbox's uid owns, so the harness can delete it.
        (h.host_run / self.KEY_FILE).write_text(self.key, encoding="utf-8")
        os.chmod(h.host_run / self.KEY_FILE, 0o600)
        return PytestRun([str(inside / "runner.py")],
                         ["-c", str(inside / "pytest.ini"), "--rootdir", str(inside),
                          "--noconftest", "-p", "mb_probe_plugin", "--mb-project", str(h.project),
                          "--mb-key-file", str(h.run_dir / self.KEY_FILE),
                          str(inside / PROBES_FOLDER)])

    def results(self, output: str) -> list[TestCaseResult]:
        return parse_probe_results(output, self.key)


def probe_run(plan: ScaffoldPlan | None) -> ProbeRun:
    return ProbeRun(plan)


def parse_probe_results(output: str, key: str) -> list[TestCaseResult]:
    """The probe outcomes the harness wrote on its own channel (the sandbox's stdout), carrying
    this run's key. A node id given twice means something else wrote on the channel: it becomes
    an error, whatever either line said."""
    results: dict[str, TestCaseResult] = {}
    mark = f"{RESULT_MARK}{key} "
    for line in output.splitlines():
        if not key or not line.startswith(mark):
            continue
        try:
            row = json.loads(line[len(mark):])
            result = TestCaseResult(nodeid=str(row["nodeid"]), outcome=TestOutcome(row["outcome"]),
                                    seconds=float(row.get("seconds") or 0.0),
                                    message=str(row.get("message") or "")[:2000])
        except (ValueError, KeyError, TypeError):
            continue
        if result.nodeid in results:
            result = result.model_copy(update={
                "outcome": TestOutcome.error,
                "message": "the probe's result was given twice: the results channel was tampered with"})
        results[result.nodeid] = result
    return list(results.values())
