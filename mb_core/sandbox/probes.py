"""Sandbox probes: a tiny project whose tests try, as hostile generated tests would, to reach past
the sandbox. Each test passes only when the sandbox holds. The test suite runs them through
`run_tests` under bubblewrap and under the fallback; bench/sandbox_probes.py prints the table."""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

# probe name -> what it tries
PROBES: dict[str, str] = {
    "net_loopback_host": "connect to a port listening on the host's loopback",
    "net_outside": "connect to an outside address, resolve a name",
    "net_interfaces": "list network interfaces (only lo, down or up)",
    "write_system": "write /etc, /usr, the interpreter and the venv",
    "private_paths": "read or write the store, MB_HOME, Dagster's home, another workspace, "
                     "the target repository",
    "root_home": "read root's home",
    "run_sockets": "see /run and the host's sockets",
    "environment": "read a planted variable or any API key",
    "processes": "see host processes, signal PID 1",
    "identity": "run as root or hold capabilities",
    "namespaces": "share a namespace with the host",
    "writable": "where writing works (only the sandbox's own tmpfs)",
}


@dataclass(frozen=True)
class ProbeContext:
    """What the probes look for, taken on the host before the run."""

    host_port: int
    planted_env: str
    private_files: dict[str, str]  # label -> a file that exists on the host
    home_file: str | None
    host_pid: int
    host_namespaces: dict[str, str]


def host_namespaces() -> dict[str, str]:
    return {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("net", "pid", "mnt", "ipc", "uts")}


_TESTS = '''
import errno
import json
import os
import signal
import socket
import sys
from pathlib import Path

CTX = json.loads({ctx!r})


def _blocked(action):
    try:
        action()
    except OSError:
        return True
    return False


def test_net_loopback_host():
    assert _blocked(lambda: socket.create_connection(("127.0.0.1", CTX["host_port"]), timeout=3))


def test_net_outside():
    # A documentation address (never routed) and a name: no route, no resolver.
    assert _blocked(lambda: socket.create_connection(("192.0.2.1", 80), timeout=3))
    assert _blocked(lambda: socket.getaddrinfo("example.com", 80))


def test_net_interfaces():
    assert [name for _, name in socket.if_nameindex()] == ["lo"]


def test_write_system():
    targets = ["/etc", "/usr", sys.base_prefix, sys.prefix, os.path.dirname(sys.executable)]
    for folder in targets:
        assert _blocked(lambda: Path(folder, "mb-probe").write_text("x")), folder


def test_private_paths():
    for label, path in CTX["private_files"].items():
        assert not os.path.exists(path), label
        assert _blocked(lambda: Path(path).read_text()), label
        assert _blocked(lambda: Path(path).write_text("x")), label


def test_root_home():
    if CTX["home_file"]:
        assert not os.path.exists(CTX["home_file"])


def test_run_sockets():
    assert [p for p in Path("/run").rglob("*") if p.is_socket()] == []
    assert not Path("/run/postgresql").exists()


def test_environment():
    assert CTX["planted_env"] not in os.environ
    leaks = [k for k in os.environ if any(w in k.upper() for w in ("KEY", "TOKEN", "SECRET", "PASS"))]
    assert leaks == []


def test_processes():
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    assert str(CTX["host_pid"]) not in pids
    assert len(pids) < 20
    try:
        os.kill(1, signal.SIGTERM)
    except PermissionError:
        pass
    else:
        raise AssertionError("signalled PID 1")


def test_identity():
    assert os.getuid() != 0 and os.geteuid() != 0
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    assert int(status["CapEff"].strip(), 16) == 0
    assert int(status["CapBnd"].strip(), 16) == 0
    assert status["NoNewPrivs"].strip() == "1"


def test_namespaces():
    for ns, host in CTX["host_namespaces"].items():
        assert os.readlink(f"/proc/self/ns/{{ns}}") != host, ns


def test_writable():
    Path("/tmp/mb-probe").write_text("x")
    Path("scratch.db").write_text("rows")
    assert Path("scratch.db").read_text() == "rows"
    assert os.getcwd() == "/tmp/mb/project"
'''


def write_probe_project(root: Path, ctx: ProbeContext) -> Path:
    """The probe project under `root`: tests/test_probes.py with one test per probe."""
    (root / "tests").mkdir(parents=True, exist_ok=True)
    (root / "tests" / "test_probes.py").write_text(
        _TESTS.format(ctx=json.dumps(ctx.__dict__)))
    return root


# Hogs: each in a project of its own, as each ends in a kill.
MEMORY_HOG = '''
import os
import time


def test_memory_hog_across_processes():
    # {children} children of {each_mb} MB each: over the whole-sandbox cap, under the per-process one.
    kids = []
    for _ in range({children}):
        pid = os.fork()
        if pid == 0:
            block = bytearray({each_mb} * 1024 * 1024)
            for i in range(0, len(block), 4096):
                block[i] = 1
            time.sleep(3)
            os._exit(0)
        kids.append(pid)
    codes = [os.waitpid(pid, 0)[1] for pid in kids]
    killed = [c for c in codes if os.WIFSIGNALED(c) and os.WTERMSIG(c) == 9]
    print("children killed:", len(killed))
    assert killed, "every child kept its memory"
'''

DISK_HOG = '''
import errno
import os


def test_disk_hog_across_processes():
    # {children} writers of {each_mb} MB each: over the sandbox's disk.
    kids = []
    for n in range({children}):
        pid = os.fork()
        if pid == 0:
            chunk = b"x" * (1024 * 1024)
            try:
                with open(f"/tmp/hog-{{n}}", "wb") as fh:
                    for _ in range({each_mb}):
                        fh.write(chunk)
                        fh.flush()
            except OSError as exc:
                os._exit(7 if exc.errno == errno.ENOSPC else 8)
            os._exit(0)
        kids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in kids]
    for n in range({children}):
        os.remove(f"/tmp/hog-{{n}}")  # room for pytest's output capture and report
    print("writer exit codes:", codes)
    assert 7 in codes, "the disk never filled"
'''

TIME_HOG = '''
import signal
import time


def test_ignores_signals_and_sleeps():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    time.sleep(600)
'''


def write_hog_project(root: Path, source: str, **values: int) -> Path:
    (root / "tests").mkdir(parents=True, exist_ok=True)
    (root / "tests" / "test_hog.py").write_text(textwrap.dedent(source.format(**values)))
    return root
