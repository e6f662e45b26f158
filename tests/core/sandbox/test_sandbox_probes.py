"""The sandbox probes, through run_tests, under bubblewrap and under the util-linux fallback.

The private folders live outside /tmp on purpose: hiding them must not depend on where they are.
"""

from __future__ import annotations

import shutil
import socket
import threading
import uuid
from pathlib import Path

import pytest

from mb_core.models import TestOutcome
from mb_core.sandbox import SANDBOX_UIDS, SandboxLimits, run_tests
from mb_core.sandbox.probes import (
    DISK_HOG,
    MEMORY_HOG,
    PROBES,
    TIME_HOG,
    ProbeContext,
    host_namespaces,
    write_hog_project,
    write_probe_project,
)

ISOLATIONS = ["bubblewrap", "rlimits"]
PLANTED = "MB_PROBE_PLANTED"


@pytest.fixture
def private_root():
    """Private folders of a build outside /tmp: MB_HOME (store, a sibling workspace), a Dagster
    home and a target repository elsewhere."""
    root = Path("/var/lib") / f"mb-probe-{uuid.uuid4().hex[:8]}"
    files = {
        "store": root / "mb" / "store.db",
        "other workspace": root / "mb" / "workspaces" / "other-build" / "app" / "main.py",
        "llm exchanges": root / "mb" / "exchanges" / "b1.jsonl",
        "dagster home": root / "dagster-elsewhere" / "dagster.yaml",
        "target repo": root / "repo" / "README.md",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("private")
    yield root, files
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_probes_hold(isolation, tmp_path, private_root, monkeypatch):
    root, files = private_root
    monkeypatch.setenv(PLANTED, "leak-me")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-probe")
    listener = socket.create_server(("127.0.0.1", 0))
    home = Path.home()
    ctx = ProbeContext(host_port=listener.getsockname()[1], planted_env=PLANTED,
                       private_files={k: str(v) for k, v in files.items()},
                       home_file=next((str(p) for p in sorted(home.iterdir()) if p.is_file()), None),
                       host_pid=__import__("os").getpid(), host_namespaces=host_namespaces())
    project = write_probe_project(tmp_path / "probe", ctx)
    private = [root / "mb", root / "dagster-elsewhere", root / "repo"]
    try:
        result = run_tests(project, timeout_s=120, isolation=isolation, private=private)
    finally:
        listener.close()
    got = {t.nodeid.rsplit("::test_", 1)[1]: t.outcome for t in result.tests}
    assert got == {name: TestOutcome.passed for name in PROBES}, result.output
    assert result.isolation == isolation
    assert result.uid in SANDBOX_UIDS and result.network is False
    assert {str(p) for p in private} <= set(result.hidden)
    assert {"net", "pid", "mount"} <= set(result.namespaces)
    caps = {(c.name, c.scope): c for c in result.caps}
    assert caps[("memory", "sandbox")].via.startswith("cgroup")
    assert caps[("processes", "sandbox")].via.startswith("cgroup")
    assert caps[("disk", "sandbox")].via == "tmpfs"
    # Nothing was written on the host, and the private files are untouched.
    assert all(p.read_text() == "private" for p in files.values())
    assert not Path("/etc/mb-probe").exists()


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_memory_cap_holds_for_the_whole_sandbox(isolation, tmp_path):
    project = write_hog_project(tmp_path / "hog", MEMORY_HOG, children=3, each_mb=150)
    limits = SandboxLimits(memory_mb=300, address_space_mb=2048)
    result = run_tests(project, timeout_s=120, isolation=isolation, limits=limits)
    assert "memory" in result.limits_hit, result.output
    # pytest itself may be the one the kernel kills; either way not all three kept 150 MB.
    outcome = {t.outcome for t in result.tests}
    assert outcome in ({TestOutcome.passed}, set()), result.output


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_disk_cap_holds_for_the_whole_sandbox(isolation, tmp_path):
    project = write_hog_project(tmp_path / "disk", DISK_HOG, children=3, each_mb=40)
    result = run_tests(project, timeout_s=120, isolation=isolation,
                       limits=SandboxLimits(disk_mb=64))
    assert [t.outcome for t in result.tests] == [TestOutcome.passed], result.output


DISK_FILLER = """
import errno


def test_fills_the_disk_and_fails():
    # keeps what it wrote: the disk is still full when pytest writes its report
    chunk = b"x" * (1024 * 1024)
    try:
        with open("/tmp/filler", "wb") as fh:
            while True:
                fh.write(chunk)
                fh.flush()
    except OSError as exc:
        assert exc.errno != errno.ENOSPC, "the disk is full"
"""


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_test_that_fills_the_disk_is_still_reported_by_name(isolation, tmp_path):
    project = write_hog_project(tmp_path / "filler", DISK_FILLER)
    result = run_tests(project, timeout_s=120, isolation=isolation,
                       limits=SandboxLimits(disk_mb=32))
    assert [(t.nodeid.split("::")[-1], t.outcome) for t in result.tests] == [
        ("test_fills_the_disk_and_fails", TestOutcome.failed)], result.output


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_timeout_kills_a_test_that_ignores_signals(isolation, tmp_path):
    project = write_hog_project(tmp_path / "slow", TIME_HOG)
    result = run_tests(project, timeout_s=5, isolation=isolation)
    assert result.timed_out and result.tests == []


FORKS = """
import os
import time


def test_forty_processes():
    kids = []
    for _ in range(40):
        pid = os.fork()
        if pid == 0:
            time.sleep(4)
            os._exit(0)
        kids.append(pid)
    assert all(os.waitpid(pid, 0)[1] == 0 for pid in kids)
"""


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_concurrent_sandboxes_do_not_share_a_process_cap(isolation, tmp_path):
    # Two sandboxes of 40 processes each under a cap of 64: one shared uid would refuse forks.
    results = {}

    def build(n: int) -> None:
        project = write_hog_project(tmp_path / f"forks-{n}", FORKS)
        results[n] = run_tests(project, timeout_s=120, isolation=isolation,
                               limits=SandboxLimits(nproc=64))

    threads = [threading.Thread(target=build, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results[0].uid != results[1].uid
    for result in results.values():
        assert [t.outcome for t in result.tests] == [TestOutcome.passed], result.output
