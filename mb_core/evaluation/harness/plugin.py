"""The probe run's only pytest plugin: the fixtures the probes use, and the channel their
results leave by.

- The generated application runs in a child process (launcher.py) serving a Unix socket; this
  process never imports generated code. The fixtures reach the application over that socket.
- This process makes itself non-dumpable first, so the child (same uid) can neither ptrace it
  nor open its /proc files and descriptors; the child inherits no descriptor of it either.
- Results leave as `MB-PROBE-RESULT KEY {json}` lines on a copy of the original stdout taken
  before pytest captures it: the sandbox's output goes to a file outside everything the sandbox
  sees. KEY is read from a file the builder wrote, which is deleted before any generated code
  runs: a line the application manages to write some other way cannot carry it.
"""

import ctypes
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

RESULT_MARK = "MB-PROBE-RESULT "
HARNESS = Path(__file__).resolve().parent
START_TIMEOUT_S = 90
PR_SET_DUMPABLE = 4


def _undumpable() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


_undumpable()
_channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
_outcomes: dict[str, dict] = {}
_key = ""


def pytest_addoption(parser):
    parser.addoption("--mb-project", required=True, help="the generated project to serve")
    parser.addoption("--mb-key-file", required=True, help="the results key, read once and deleted")


def pytest_configure(config):
    global _key
    key_file = Path(config.getoption("--mb-key-file"))
    _key = key_file.read_text(encoding="utf-8").strip()
    key_file.unlink()


def _message(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    return text.strip()[:1000]


def pytest_runtest_logreport(report):
    row = _outcomes.setdefault(report.nodeid, {"nodeid": report.nodeid, "outcome": "passed",
                                               "message": "", "seconds": 0.0})
    row["seconds"] = round(row["seconds"] + float(report.duration or 0.0), 3)
    if report.failed:
        if row["outcome"] in ("passed", "skipped"):
            row["outcome"] = "failed" if report.when == "call" else "error"
            row["message"] = _message(report)
    elif report.skipped and row["outcome"] == "passed":
        row["outcome"] = "skipped"
        row["message"] = _message(report)


def pytest_unconfigure(config):
    for row in _outcomes.values():
        _channel.write(f"{RESULT_MARK}{_key} {json.dumps(row)}\n")
    _channel.flush()


class ServedApp:
    def __init__(self, project: Path, work: Path, cases: Path):
        self.socket = work / "app.sock"
        self.info_path = work / "info.json"
        self.log_path = work / "app.log"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work),
               "LANG": "C.UTF-8"}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-B", "-u", str(HARNESS / "launcher.py"), str(project),
                 str(self.socket), str(self.info_path), str(cases)],
                cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                close_fds=True, start_new_session=True)
        self.info = self._wait()

    def _wait(self) -> dict:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                lines = self.log_text().strip().splitlines() or ["no output"]
                raise RuntimeError(f"the application exited with {self.process.returncode} "
                                   f"before serving: {lines[-1][:300]}")
            if self.info_path.is_file() and self.socket.exists():
                try:
                    with socket.socket(socket.AF_UNIX) as probe:
                        probe.connect(str(self.socket))
                    return json.loads(self.info_path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"the application did not serve within {START_TIMEOUT_S} s")

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def served_app(request, tmp_path_factory):
    project = Path(request.config.getoption("--mb-project"))
    served = ServedApp(project, tmp_path_factory.mktemp("app"), HARNESS / "mb_probes" / "cases.json")
    yield served
    served.stop()


@pytest.fixture(scope="session")
def client(served_app):
    transport = httpx.HTTPTransport(uds=str(served_app.socket))
    with httpx.Client(transport=transport, base_url="http://app", timeout=60) as http:
        yield http


@pytest.fixture
def auth(served_app):
    def headers() -> dict[str, str]:
        return {"Authorization": f"Bearer {served_app.info['token']}"}

    return headers


def asgi_proxy(socket_path: str):
    """An ASGI application that forwards every request to the served application: schemathesis
    drives it in this process while the application answers from its own."""

    async def proxy(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        url = "http://app" + scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in (b"host", b"content-length")]
        transport = httpx.AsyncHTTPTransport(uds=socket_path)
        async with httpx.AsyncClient(transport=transport, timeout=60) as http:
            answer = await http.request(scope["method"], url, content=body, headers=headers)
        dropped = {b"content-length", b"content-encoding", b"transfer-encoding", b"connection"}
        await send({"type": "http.response.start", "status": answer.status_code,
                    "headers": [(k, v) for k, v in answer.headers.raw if k.lower() not in dropped]
                    + [(b"content-length", str(len(answer.content)).encode())]})
        await send({"type": "http.response.body", "body": answer.content})

    return proxy


@pytest.fixture(scope="session")
def app(served_app):
    return asgi_proxy(str(served_app.socket))
