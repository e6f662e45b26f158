"""API latency: GET /api/meta/v2/runs/{id} under 50 concurrent clients on loopback, with a few
runs in the store and with 10,000.

Run by hand (`python bench/api.py`, options: --clients, --requests, --many). Each scenario uses a
fresh storage root, a real `mb serve` (one uvicorn worker) and the SQLite store.
Besides p50/p99 it prints the server's CPU per request, which a loaded shared machine does not
inflate the way it inflates latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

MB = str(Path(sys.executable).parent / "mb")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(home: str, runs: int) -> tuple[str, list[str]]:
    """A tenant with an owner key and `runs` builds started from one spec (rows written directly,
    in bulk: the bench is about reading them)."""
    os.environ.update({"MB_HOME": home, "DAGSTER_HOME": f"{home}/dagster"})
    from sqlalchemy import insert

    from mb_core.models import SpecMode
    from mb_core.pipeline import BuildEnvironment
    from mb_core.store.platform import PlatformStore
    from mb_core.store.platform_tables import spec_runs
    from mb_core.store.tables import builds

    env = BuildEnvironment.open()
    platform = PlatformStore(env.store)
    owner = platform.create_principal("acme", "bench", "owner")
    token = platform.issue_key("acme", owner.id).token
    spec = platform.create_spec("acme", "Build a CRM system with contacts and deals", SpecMode.freeform,
                                owner.id)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [f"b-bench-{n:06d}" for n in range(runs)]
    rows = [{"id": build_id, "tenant": "acme", "spec_text": spec.text, "mode": "freeform",
             "status": random.choice(["released", "failed", "awaiting_approval", "running"]),
             "provider": "offline", "created_at": start + timedelta(seconds=n),
             "updated_at": start + timedelta(seconds=n)} for n, build_id in enumerate(ids)]
    links = [{"build_id": build_id, "spec_id": spec.id, "tenant": "acme", "submitted_by": owner.id,
              "created_at": start} for build_id in ids]
    with env.store.engine.begin() as conn:
        for chunk in range(0, len(rows), 1000):
            conn.execute(insert(builds), rows[chunk:chunk + 1000])
            conn.execute(insert(spec_runs), links[chunk:chunk + 1000])
    env.store.dispose()
    return token, ids


async def hammer(base: str, token: str, ids: list[str], clients: int, requests: int) -> list[float]:
    latencies: list[float] = []
    per_client = requests // clients

    async def client_loop(client: httpx.AsyncClient) -> None:
        for _ in range(per_client):
            started = time.perf_counter()
            url = f"{base}/api/meta/v2/runs/{random.choice(ids)}"
            try:
                response = await client.get(url)
            except (httpx.RemoteProtocolError, httpx.ReadError):
                # The server closed a kept-alive connection as this request went out (a loaded
                # client idles past uvicorn's keep-alive): sent again, timed from the first try.
                response = await client.get(url)
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=120) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return latencies


def _cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used (Linux /proc): what a request costs the server,
    whatever else the machine is doing (latency on a shared machine mostly measures the queue)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scenario(runs: int, clients: int, requests: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="mb-bench-api-") as home:
        token, ids = seed(home, runs)
        port = _free_port()
        env = {**os.environ, "MB_HOME": home, "DAGSTER_HOME": f"{home}/dagster"}
        log = open(Path(home) / "serve.log", "wb")  # noqa: SIM115 - closed with the server
        server = subprocess.Popen([MB, "serve", "--port", str(port)], env=env, start_new_session=True,
                                  stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.25)
            asyncio.run(hammer(base, token, ids, 5, 50))  # warm-up: imports, the Dagster instance
            started, cpu_before = time.perf_counter(), _cpu_seconds(server.pid)
            try:
                latencies = asyncio.run(hammer(base, token, ids, clients, requests))
            except httpx.HTTPError:
                server.terminate()
                server.wait(timeout=30)
                log.close()
                sys.stderr.write((Path(home) / "serve.log").read_text()[-3000:])
                raise
            wall = time.perf_counter() - started
            cpu = _cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=30)
    ordered = sorted(latencies)
    return {"runs": runs, "requests": len(ordered), "p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "throughput_rps": len(ordered) / wall, "server_cpu_ms": 1000 * cpu / len(ordered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--few", type=int, default=10)
    parser.add_argument("--many", type=int, default=10_000)
    args = parser.parse_args()
    for runs in (args.few, args.many):
        result = scenario(runs, args.clients, args.requests)
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
        print(f"[load {load}] "
              f"{result['runs']:>6} runs in the store: GET run p50 {result['p50_ms']:.1f} ms, "
              f"p99 {result['p99_ms']:.1f} ms, {result['throughput_rps']:.0f} req/s, "
              f"server CPU {result['server_cpu_ms']:.1f} ms/request "
              f"({result['requests']} requests, {args.clients} clients)")


if __name__ == "__main__":
    main()
