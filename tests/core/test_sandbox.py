from __future__ import annotations

import os
import shutil
import socket
import textwrap
from pathlib import Path

import pytest

from mb_core.errors import SandboxError
from mb_core.models import TestOutcome
from mb_core.sandbox import SANDBOX_UIDS, SandboxLimits, parse_junit, run_tests, sandbox_status

IS_ROOT = os.geteuid() == 0
PLANTED = "MB_PLANTED_SECRET"

APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
def health():
    return {"status": "ok"}
"""


def make_project(root: Path, tests: str) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(APP)
    (root / "tests").mkdir()
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "test_app.py").write_text(textwrap.dedent(tests))
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(root.rglob("*"))}


def outcomes(result) -> dict[str, TestOutcome]:
    return {t.nodeid: t.outcome for t in result.tests}


@pytest.fixture
def checkouts(tmp_path) -> Path:
    """A folder of checkouts, as the builder keeps them: the project and a sibling build."""
    root = tmp_path / "checkouts"
    (root / "other-build").mkdir(parents=True)
    (root / "other-build" / "secret.txt").write_text("another tenant's code")
    return root


def test_isolated_run_with_results(checkouts, monkeypatch):
    monkeypatch.setenv(PLANTED, "leak-me")
    listener = socket.create_server(("127.0.0.1", 0))
    host_port = listener.getsockname()[1]
    home = Path.home()
    home_marker = next((p for p in sorted(home.iterdir()) if p.is_file()), None)
    project = make_project(checkouts / "build-1", f"""
        import os
        import socket
        from pathlib import Path

        from fastapi.testclient import TestClient

        from app.main import app


        def test_health_endpoint():
            assert TestClient(app).get("/health").json() == {{"status": "ok"}}


        def test_deliberately_failing():
            assert 1 + 1 == 3, "arithmetic"


        def test_no_network():
            # A server listens on the host's loopback; the sandbox's own network namespace
            # must not reach it (no traffic ever leaves this machine to prove it).
            try:
                socket.create_connection(("127.0.0.1", {host_port}), timeout=3).close()
            except OSError:
                return
            raise AssertionError("reached the host's network")


        def test_etc_is_read_only():
            try:
                Path("/etc/mb-sandbox-probe").write_text("x")
            except OSError:
                return
            raise AssertionError("wrote /etc")


        def test_project_copy_is_writable():
            Path("scratch.db").write_text("rows")
            assert Path("scratch.db").read_text() == "rows"


        def test_environment_is_cleared():
            assert "{PLANTED}" not in os.environ
            assert os.environ["HOME"] == "/tmp"


        def test_uid():
            assert {SANDBOX_UIDS.start if IS_ROOT else os.getuid()} <= os.getuid() <= {SANDBOX_UIDS.stop - 1 if IS_ROOT else os.getuid()}


        def test_other_checkouts_and_home_are_hidden():
            assert not Path({str(checkouts / "other-build" / "secret.txt")!r}).exists()
            marker = {str(home_marker) if home_marker else None!r}
            assert marker is None or not Path(marker).exists()


        class TestGrouped:
            def test_skipped(self):
                import pytest
                pytest.skip("not today")
    """)
    before = snapshot(project)

    try:
        result = run_tests(project, timeout_s=120)
    finally:
        listener.close()

    assert result.isolation == "bubblewrap" and result.warning is None
    assert result.uid in (SANDBOX_UIDS if IS_ROOT else [os.getuid()])
    assert result.exit_code == 1 and not result.timed_out
    assert outcomes(result) == {
        "tests/test_app.py::test_health_endpoint": TestOutcome.passed,
        "tests/test_app.py::test_deliberately_failing": TestOutcome.failed,
        "tests/test_app.py::test_no_network": TestOutcome.passed,
        "tests/test_app.py::test_etc_is_read_only": TestOutcome.passed,
        "tests/test_app.py::test_project_copy_is_writable": TestOutcome.passed,
        "tests/test_app.py::test_environment_is_cleared": TestOutcome.passed,
        "tests/test_app.py::test_uid": TestOutcome.passed,
        "tests/test_app.py::test_other_checkouts_and_home_are_hidden": TestOutcome.passed,
        "tests/test_app.py::TestGrouped::test_skipped": TestOutcome.skipped,
    }, result.output
    failed = next(t for t in result.tests if t.outcome is TestOutcome.failed)
    assert "arithmetic" in failed.message
    assert "1 failed" in result.output
    # The run happened in a copy: no cache, bytecode, database or report reached the tree.
    assert snapshot(project) == before
    assert not Path("/etc/mb-sandbox-probe").exists()


def test_fork_bomb_is_contained_by_nproc(tmp_path):
    if not IS_ROOT:
        pytest.fail("run the suite as root: the uid drop that makes nproc count needs it")
    project = make_project(tmp_path / "bomb", """
        import os
        import signal
        import time


        def test_fork_loop():
            children = []
            try:
                for _ in range(2000):
                    pid = os.fork()
                    if pid == 0:
                        time.sleep(60)
                        os._exit(0)
                    children.append(pid)
            except OSError:
                pass
            finally:
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
                for pid in children:
                    os.waitpid(pid, 0)
            print("forked", len(children))
            assert len(children) < 64
    """)
    result = run_tests(project, timeout_s=60, limits=SandboxLimits(nproc=64))
    assert outcomes(result) == {"tests/test_app.py::test_fork_loop": TestOutcome.passed}, result.output
    assert result.exit_code == 0


def test_timeout_kills_the_run(tmp_path):
    project = make_project(tmp_path / "slow", """
        import time


        def test_sleeps_too_long():
            time.sleep(60)
    """)
    result = run_tests(project, timeout_s=3)
    assert result.timed_out
    assert result.exit_code != 0
    assert result.tests == []  # killed before pytest wrote its report
    assert result.seconds < 60


FALLBACK_TESTS = """
    def test_passes():
        assert True


    def test_fails():
        assert False, "expected"
"""


def check_fallback(result) -> None:
    assert result.isolation == "rlimits"
    assert result.warning and "rlimits" in result.warning
    assert outcomes(result) == {"tests/test_app.py::test_passes": TestOutcome.passed,
                                "tests/test_app.py::test_fails": TestOutcome.failed}, result.output
    assert result.exit_code == 1


def test_rlimits_fallback_by_parameter(tmp_path, caplog):
    project = make_project(tmp_path / "p", FALLBACK_TESTS)
    before = snapshot(project)
    with caplog.at_level("WARNING", logger="mb.sandbox"):
        result = run_tests(project, timeout_s=120, isolation="rlimits")
    check_fallback(result)
    assert any("rlimits" in r.getMessage() for r in caplog.records)
    assert snapshot(project) == before


def test_rlimits_fallback_by_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MB_SANDBOX", "rlimits")
    check_fallback(run_tests(make_project(tmp_path / "p", FALLBACK_TESTS), timeout_s=120))


def test_missing_bwrap_falls_back_loudly(tmp_path, monkeypatch):
    # A PATH that has the rlimit tools but no bwrap.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("prlimit", "setpriv", "timeout"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(bin_dir))
    result = run_tests(make_project(tmp_path / "p", FALLBACK_TESTS), timeout_s=120)
    check_fallback(result)
    assert "not installed" in result.warning
    with pytest.raises(SandboxError, match="not installed"):
        run_tests(tmp_path / "p", timeout_s=120, isolation="bubblewrap")


def test_bad_input(tmp_path):
    with pytest.raises(SandboxError, match="is not a folder"):
        run_tests(tmp_path / "missing")
    with pytest.raises(SandboxError, match="unknown sandbox isolation"):
        run_tests(tmp_path, isolation="docker")


def test_scratch_is_removed(tmp_path):
    scratch_parent = tmp_path / "scratch"
    scratch_parent.mkdir()
    project = make_project(tmp_path / "p", FALLBACK_TESTS)
    run_tests(project, timeout_s=120, scratch_parent=scratch_parent)
    assert list(scratch_parent.iterdir()) == []


def test_sandbox_status():
    status = sandbox_status()
    assert status["bwrap"] and status["bwrap_version"].startswith("bubblewrap")
    assert status["works"] is True and status["isolation"] == "bubblewrap"
    assert status["uid"] in (SANDBOX_UIDS if IS_ROOT else [os.getuid()])


def test_parse_junit_names_and_outcomes():
    report = """<?xml version="1.0" encoding="utf-8"?>
    <testsuites><testsuite name="pytest">
      <testcase classname="tests.test_x" name="test_a" file="tests/test_x.py" time="0.5"/>
      <testcase classname="tests.test_x.TestC" name="test_b[1]" file="tests/test_x.py" time="x">
        <failure message="boom">trace</failure></testcase>
      <testcase classname="tests.test_x" name="test_c" file="tests/test_x.py">
        <error message="fixture broke"/></testcase>
    </testsuite></testsuites>"""
    tests = parse_junit(report)
    assert [(t.nodeid, t.outcome, t.message) for t in tests] == [
        ("tests/test_x.py::test_a", TestOutcome.passed, ""),
        ("tests/test_x.py::TestC::test_b[1]", TestOutcome.failed, "boom"),
        ("tests/test_x.py::test_c", TestOutcome.error, "fixture broke"),
    ]
    assert tests[0].seconds == 0.5
    assert parse_junit("<not xml") == []


def test_unreachable_interpreter_is_refused_never_run_as_root(tmp_path):
    """An interpreter in a folder the sandbox uid cannot enter (and the sandbox does not cover):
    both sandboxes refuse, and the tests never run, least of all as root."""
    import site
    import subprocess
    import sys
    import uuid

    locked = Path("/var/lib") / f"mb-locked-{uuid.uuid4().hex[:8]}"
    locked.mkdir(mode=0o700)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(locked / "venv")],
                       check=True)
        marker = locked / "ran-outside"
        project = make_project(tmp_path / "p", f"""
            from pathlib import Path


            def test_escape():
                Path({str(marker)!r}).write_text("ran")
        """)
        code = ("import sys\nfrom mb_core.errors import SandboxError\n"
                "from mb_core.sandbox import run_tests\n"
                "try:\n    run_tests(sys.argv[1], timeout_s=60)\n"
                "except SandboxError as exc:\n    print(exc.message)\n    sys.exit(3)\n")
        root = Path(__file__).resolve().parents[2]
        env = {"PATH": os.environ["PATH"],
               "PYTHONPATH": os.pathsep.join([str(root), *site.getsitepackages()])}
        done = subprocess.run([str(locked / "venv" / "bin" / "python"), "-c", code, str(project)],
                              check=False, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 3, done.stdout + done.stderr
        assert "never runs as root" in done.stdout and "the tests were not run" in done.stdout
        assert not marker.exists()
    finally:
        shutil.rmtree(locked, ignore_errors=True)
