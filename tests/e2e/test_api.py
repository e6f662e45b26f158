"""The API as a team uses it: `mb users`/`mb keys` make a key, `mb serve` answers on loopback, a
spec submitted through it is claimed by the submissions sensor and built by another process (as
a Dagster run worker would), and /metrics moves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from dagster import DagsterInstance, build_sensor_context
from prometheus_client.parser import text_string_to_metric_families

from mb_dagster.build.sensors import submissions_sensor
from mb_dagster.resources import MetaBuilderResource

MB = str(Path(sys.executable).parent / "mb")
CRM = "Build a CRM system with contacts and deals"

BUILD_IN_ANOTHER_PROCESS = """
import sys
from mb_core.pipeline import BuildEnvironment
from mb_dagster import driver
from mb_dagster.instance import open_instance
env = BuildEnvironment.open()
driver.run_build(env, open_instance(env.settings), sys.argv[1], tags={"mb/tenant": "acme"})
"""


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


def test_a_spec_submitted_through_the_api_is_built_and_counted(mb_home):
    mb("users", "create", "ana", "--tenant", "acme", "--role", "owner")
    token = mb("keys", "create", "ana", "--tenant", "acme").stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [MB, "serve", "--port", str(port)], env={**os.environ}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # Its own process group, stopped as one; uvicorn installs its own SIGTERM handler.
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(120):
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
        assert _metric(before, "meta_builder_queue_depth", tenant="acme") == 1
        assert _metric(before, "meta_builder_runs_succeeded_total", tenant="acme") == 0

        # The daemon's sensor claims it; a separate process builds it.
        instance = DagsterInstance.get()
        requested = submissions_sensor(build_sensor_context(instance=instance,
                                                            resources={"mb": MetaBuilderResource()}))
        assert [r.partition_key for r in requested.run_requests] == [run_id]
        built = subprocess.run([sys.executable, "-c", BUILD_IN_ANOTHER_PROCESS, run_id], check=False,
                               capture_output=True, text=True, timeout=600)
        assert built.returncode == 0, built.stderr[-3000:]

        after = httpx.get(f"{base}/metrics", timeout=30).text
        assert _metric(after, "meta_builder_runs_started_total", tenant="acme") == 1
        assert _metric(after, "meta_builder_runs_succeeded_total", tenant="acme") == 1
        assert _metric(after, "meta_builder_plans_generated_total", tenant="acme") == 1
        assert _metric(after, "meta_builder_queue_depth", tenant="acme") == 0
        assert _metric(after, "meta_builder_agent_latency_seconds_count", role="product_architect") >= 1

        document = httpx.get(f"{base}/api/meta/v2/runs/{run_id}", headers=headers, timeout=30).json()["data"]
        assert document["attributes"]["status"] == "released"
        jobs = {link["job"] for link in document["attributes"]["dagster_runs"]}
        assert jobs == {"build_job", "release_job"}
        assert all(link["url"].startswith("http://127.0.0.1:3000/runs/")
                   for link in document["attributes"]["dagster_runs"])
        assert {asset["key"] for asset in document["attributes"]["assets"]} == {
            "spec", "plan", "diff", "eval_report", "artifact"}
        promoted = httpx.post(f"{base}/api/meta/v4/runs/{run_id}/promote", headers=headers, timeout=30)
        assert promoted.status_code == 200 and promoted.json()["data"]["attributes"]["promoted"] is True
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
