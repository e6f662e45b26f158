"""Print the sandbox probe table: each probe under bubblewrap and under the util-linux fallback.

Run as root from the repository: .venv/bin/python bench/sandbox_probes.py
A cell says "held" when the sandbox stopped the probe, "BROKEN" when the probe got through.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path

from mb_core.errors import SandboxError
from mb_core.models import TestOutcome
from mb_core.sandbox import SandboxLimits, run_tests
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

ISOLATIONS = ("bubblewrap", "rlimits")


def probe_row(isolation: str, work: Path, private_root: Path) -> dict[str, str]:
    files = {"store": private_root / "mb" / "store.db",
             "other workspace": private_root / "mb" / "workspaces" / "b2" / "app.py",
             "dagster home": private_root / "dagster" / "dagster.yaml",
             "target repo": private_root / "repo" / "README.md"}
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("private")
    os.environ["MB_BENCH_PLANTED"] = "leak-me"
    listener = socket.create_server(("127.0.0.1", 0))
    home = Path.home()
    ctx = ProbeContext(listener.getsockname()[1], "MB_BENCH_PLANTED",
                       {k: str(v) for k, v in files.items()},
                       next((str(p) for p in sorted(home.iterdir()) if p.is_file()), None),
                       os.getpid(), host_namespaces())
    project = write_probe_project(work / f"probe-{isolation}", ctx)
    started = time.monotonic()
    try:
        result = run_tests(project, timeout_s=120, isolation=isolation,
                           private=[private_root / "mb", private_root / "dagster",
                                    private_root / "repo"])
    finally:
        listener.close()
    row = {t.nodeid.rsplit("::test_", 1)[1]: "held" if t.outcome is TestOutcome.passed
           else f"BROKEN: {t.message[:60]}" for t in result.tests}
    row["(launch + suite)"] = f"{time.monotonic() - started:.1f} s"
    row["(uid, caps)"] = f"{result.uid}, " + ", ".join(
        f"{c.name}/{c.scope}:{c.via}" for c in result.caps if c.scope == "sandbox")
    return row


def hog_cells(isolation: str, work: Path) -> dict[str, str]:
    cells = {}
    memory = run_tests(write_hog_project(work / f"mem-{isolation}", MEMORY_HOG, children=3,
                                         each_mb=150), timeout_s=120, isolation=isolation,
                       limits=SandboxLimits(memory_mb=300, address_space_mb=2048))
    cells["memory_hog (3 x 150 MB, cap 300 MB)"] = (
        "held (a process was killed)" if "memory" in memory.limits_hit else "BROKEN")
    disk = run_tests(write_hog_project(work / f"disk-{isolation}", DISK_HOG, children=3,
                                       each_mb=40), timeout_s=120, isolation=isolation,
                     limits=SandboxLimits(disk_mb=64))
    cells["disk_hog (3 x 40 MB, cap 64 MB)"] = (
        "held (ENOSPC)" if [t.outcome for t in disk.tests] == [TestOutcome.passed] else "BROKEN")
    slow = run_tests(write_hog_project(work / f"slow-{isolation}", TIME_HOG), timeout_s=5,
                     isolation=isolation)
    cells["time (ignores SIGTERM, timeout 5 s)"] = (
        f"held (killed after {slow.seconds:.1f} s)" if slow.timed_out else "BROKEN")
    return cells


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("run as root: the sandbox drops to a uid of its own")
    work = Path(tempfile.mkdtemp(prefix="mb-probe-bench-"))
    private_root = Path("/var/lib") / f"mb-probe-bench-{uuid.uuid4().hex[:8]}"
    columns: dict[str, dict[str, str]] = {}
    try:
        for isolation in ISOLATIONS:
            try:
                columns[isolation] = probe_row(isolation, work, private_root)
                columns[isolation].update(hog_cells(isolation, work))
            except SandboxError as exc:
                columns[isolation] = {"(refused)": exc.message}
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(private_root, ignore_errors=True)
    names = list(dict.fromkeys([*PROBES, *(k for c in columns.values() for k in c)]))
    width = max(len(n) for n in names)
    print(f"| {'probe':<{width}} | bubblewrap | fallback (util-linux) |")
    print(f"|{'-' * (width + 2)}|------------|-----------------------|")
    for name in names:
        cells = [columns.get(i, {}).get(name, "-") for i in ISOLATIONS]
        print(f"| {name:<{width}} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
