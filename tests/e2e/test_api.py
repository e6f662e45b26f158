"""The API as a team uses it: `mb users`/`mb keys` make a key, `mb serve` answers on loopback, and
a spec submitted through it is built by a real `dagster-daemon run` (its sensors claim, heal and
release the build in run workers the daemon launches); /metrics, served by yet another process,
counts what those workers did."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mb_core.settings import Settings
from mb_dagster.instance import REPO_ROOT, open_instance

BIN = Path(sys.executable).parent
MB = str(BIN / "mb")
CRM = "Build a CRM system with contacts and deals"
BUILD_TIMEOUT_S = 1200  # generous: the machine is shared; this is a deadline, not a measurement
ENDED = {"released", "failed", "rolled_back", "rejected", "cancelled"}


def mb(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([MB, *args], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def _reset_signals() -> None:
    # A shell may start us with SIGINT/SIGTERM ignored; the daemon must stop when told.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        # Its own session: the daemon's code server and the run workers it launches are in the
        # group too, so one killpg stops all of them.
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ}, start_new_session=True,
                                preexec_fn=_reset_signals)  # noqa: PLW1509


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the whole group, then SIGKILL to whatever is left of it."""
    for sig, wait_s in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            proc.poll()  # reaps the leader
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def test_a_spec_submitted_through_the_api_is_built_by_the_daemon_and_counted(mb_home):
    mb("users", "create", "ana", "--tenant", "acme", "--role", "owner")
    token = mb("keys", "create", "ana", "--tenant", "acme").stdout.strip().splitlines()[-1]
    open_instance(Settings.from_env()).dispose()  # DAGSTER_HOME has its dagster.yaml and storage
    daemon_log, server_log = mb_home / "daemon.log", mb_home / "serve.log"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    started: list[subprocess.Popen] = []
    try:
        started.append(_start([str(BIN / "dagster-daemon"), "run", "-w", str(REPO_ROOT / "workspace.yaml")],
                              daemon_log))
        started.append(_start([MB, "serve", "--port", str(port)], server_log))
        for _ in range(240):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        assert httpx.get(f"{base}/readyz", timeout=30).json()["data"]["attributes"]["ready"] is True

        spec = httpx.post(f"{base}/api/meta/v2/specs", headers=headers, timeout=30,
                          json={"data": {"type": "spec", "attributes": {"text": CRM}}})
        assert spec.status_code == 201, spec.text
        run = httpx.post(f"{base}/api/meta/v2/specs/{spec.json()['data']['id']}/runs", headers=headers,
                         timeout=30)
        assert run.status_code == 202, run.text
        run_id = run.json()["data"]["id"]
        before = httpx.get(f"{base}/metrics", timeout=30).text
        assert _metric(before, "meta_builder_runs_succeeded_total", tenant="acme") == 0
        assert _metric(before, "meta_builder_agent_latency_seconds_count", role="product_architect") == 0

        # Nothing in this process builds: the daemon's sensors and its run workers do it all.
        approved = False
        deadline = time.monotonic() + BUILD_TIMEOUT_S
        while True:
            status = httpx.get(f"{base}/api/meta/v2/runs/{run_id}", headers=headers,
                               timeout=30).json()["data"]["attributes"]["status"]
            if status in ENDED:
                break
            if status == "awaiting_approval" and not approved:
                decided = httpx.post(f"{base}/api/meta/v2/runs/{run_id}/approve", headers=headers, timeout=30,
                                     json={"data": {"type": "decision", "attributes": {"reason": "reviewed"}}})
                assert decided.status_code == 200, decided.text
                approved = True
            assert all(p.poll() is None for p in started), _tail(daemon_log) + _tail(server_log)
            assert time.monotonic() < deadline, f"{run_id} still {status}\n{_tail(daemon_log)}"
            time.sleep(2)
        assert status == "released", _tail(daemon_log)

        after = httpx.get(f"{base}/metrics", timeout=30).text
        assert _metric(after, "meta_builder_runs_started_total", tenant="acme") == 1
        assert _metric(after, "meta_builder_runs_succeeded_total", tenant="acme") == 1
        assert _metric(after, "meta_builder_runs_failed_total", tenant="acme") == 0
        assert _metric(after, "meta_builder_queue_depth", tenant="acme") == 0
        assert _metric(after, "meta_builder_agent_latency_seconds_count", role="product_architect") >= 1

        document = httpx.get(f"{base}/api/meta/v2/runs/{run_id}", headers=headers, timeout=30).json()["data"]
        links = document["attributes"]["dagster_runs"]
        assert {link["job"] for link in links} >= {"build_job", "release_job"}
        assert {asset["key"] for asset in document["attributes"]["assets"]} == {
            "spec", "plan", "diff", "eval_report", "artifact"}
        # Launched by the daemon (its sensors' tags), not by a driver in some process of ours.
        instance = open_instance(Settings.from_env())
        try:
            runs = [instance.get_run_by_id(link["run_id"]) for link in links]
        finally:
            instance.dispose()
        assert all(r.tags.get("mb/driver") == "sensor" and r.tags.get("dagster/sensor_name") for r in runs)
        promoted = httpx.post(f"{base}/api/meta/v4/runs/{run_id}/promote", headers=headers, timeout=30)
        assert promoted.status_code == 200 and promoted.json()["data"]["attributes"]["promoted"] is True
    finally:
        for proc in reversed(started):
            _stop(proc)
