"""`make up` / `make down`: the Dagster webserver, the daemon and N Celery run workers on this
machine, each a separate process in a session of its own.

    python -m mb_dagster.deploy.processes up --workers 2 [--port 3000]
    python -m mb_dagster.deploy.processes down
    python -m mb_dagster.deploy.processes status

Each process's id and log are under $MB_HOME/run/. `down` sends SIGTERM to each process group
(a worker's pool children and the daemon's code server go with it), waits, then SIGKILLs what is
left, so nothing outlives it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mb_core.errors import InvalidSettings, MBError
from mb_core.settings import Settings

STOP_TIMEOUT_S = 30


def run_dir(settings: Settings) -> Path:
    return settings.home / "run"


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def commands(settings: Settings, workers: int, port: int, webserver: bool = True) -> dict[str, list[str]]:
    """What each process runs, by name."""
    from mb_dagster.instance import REPO_ROOT

    workspace = str(REPO_ROOT / "workspace.yaml")
    procs = {"daemon": [_bin("dagster-daemon"), "run", "-w", workspace]}
    if webserver:
        procs["webserver"] = [_bin("dagster-webserver"), "-w", workspace, "-h", "127.0.0.1",
                              "-p", str(port)]
    for n in range(1, workers + 1):
        procs[f"worker-{n}"] = [_bin("celery"), "-A", "mb_dagster.deploy.celery_app", "worker",
                                "-Q", "dagster", "--concurrency", "1", "--prefetch-multiplier", "1",
                                "-n", f"mb-worker-{n}@%h", "--loglevel", "INFO"]
    return procs


def _reset_signals() -> None:
    # A shell may start us with SIGINT/SIGTERM ignored; every process must stop when told.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def running(settings: Settings) -> dict[str, int]:
    found = {}
    folder = run_dir(settings)
    for pidfile in sorted(folder.glob("*.pid")) if folder.exists() else []:
        try:
            pid = int(pidfile.read_text().strip())
        except ValueError:
            continue
        if _alive(pid):
            found[pidfile.stem] = pid
    return found


def up(settings: Settings, workers: int, port: int, webserver: bool = True) -> dict[str, int]:
    """Starts every process; refuses (one line) when the profile cannot run distributed."""
    from mb_dagster.deploy.preflight import check_services
    from mb_dagster.instance import open_instance

    if workers < 1:
        raise InvalidSettings("--workers must be at least 1")
    if not settings.dagster_postgres_url or not settings.celery_broker_url:
        raise InvalidSettings("make up runs workers on other processes: set MB_DAGSTER_POSTGRES_URL "
                              "(the shared instance) and MB_CELERY_BROKER_URL (the Redis broker)")
    if not settings.database_url.startswith(("postgresql", "postgres:")):
        raise InvalidSettings("make up needs the store on PostgreSQL too: set MB_DATABASE_URL")
    if running(settings):
        raise MBError(f"already up: {', '.join(running(settings))} (make down first)")
    check_services(settings)
    from mb_core.pipeline import BuildEnvironment

    BuildEnvironment.open(settings).store.dispose()  # the store migrated before anything starts
    instance = open_instance(settings)  # the instance file is in place, its storage made
    from mb_dagster.instance import CELERY_INSTANCE_YAML

    launcher = type(instance.run_launcher).__name__
    instance.dispose()
    if launcher != "CeleryRunLauncher":
        raise MBError(f"{settings.dagster_home / 'dagster.yaml'} launches runs with {launcher}, not "
                      f"Celery: copy {CELERY_INSTANCE_YAML.name} there")
    return {name: _spawn(settings, name, cmd)
            for name, cmd in commands(settings, workers, port, webserver).items()}


def _spawn(settings: Settings, name: str, cmd: list[str]) -> int:
    folder = run_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DAGSTER_HOME": str(settings.dagster_home), "MB_HOME": str(settings.home)}
    log = open(folder / f"{name}.log", "ab")  # noqa: SIM115 (the child keeps it)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True, preexec_fn=_reset_signals)  # noqa: PLW1509
    log.close()
    (folder / f"{name}.pid").write_text(f"{proc.pid}\n")
    return proc.pid


def restart_worker(settings: Settings, n: int) -> int:
    """Starts worker `n` again (what a supervisor does after it died); returns its pid."""
    name = f"worker-{n}"
    return _spawn(settings, name, commands(settings, n, 0, webserver=False)[name])


def down(settings: Settings, timeout_s: float = STOP_TIMEOUT_S) -> list[str]:
    """Stops every process `up` started (its whole process group); returns their names."""
    folder = run_dir(settings)
    stopped = []
    pids: dict[str, int] = {}
    for pidfile in sorted(folder.glob("*.pid")) if folder.exists() else []:
        try:
            pids[pidfile.stem] = int(pidfile.read_text().strip())
        except ValueError:
            pidfile.unlink()
    # Workers first: the daemon must not see them vanish while it still launches runs.
    order = sorted(pids, key=lambda n: (not n.startswith("worker"), n))
    for name in order:
        try:
            os.killpg(pids[name], signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout_s
    for name in order:
        while _group_alive(pids[name]) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _group_alive(pids[name]):
            try:
                os.killpg(pids[name], signal.SIGKILL)
            except ProcessLookupError:
                pass
            # Gone means gone: wait (and reap our own children) until the group is empty.
            killed_by = time.monotonic() + 10
            while _group_alive(pids[name]) and time.monotonic() < killed_by:
                time.sleep(0.1)
        (folder / f"{name}.pid").unlink(missing_ok=True)
        stopped.append(name)
    return stopped


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    _alive(pgid)  # reaps the leader if it is our child
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mb_dagster.deploy.processes")
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MB_WORKERS") or 2))
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--no-webserver", action="store_true", help="only the daemon and workers")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.action == "up":
            started = up(settings, args.workers, args.port, webserver=not args.no_webserver)
            print(f"up: {', '.join(f'{n} ({p})' for n, p in started.items())}; "
                  f"UI on http://127.0.0.1:{args.port}; logs in {run_dir(settings)}")
        elif args.action == "down":
            stopped = down(settings)
            print(f"down: {', '.join(stopped)}" if stopped else "nothing was up")
        else:
            found = running(settings)
            print("\n".join(f"{n:<10} {p}" for n, p in found.items()) or "nothing is up")
    except MBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
