"""Worker leases in the store: taken by the process that runs a build's attempt, given back when
it finishes, read by the reconciler (mb_core.reconcile) to tell a live worker from a lost one."""

from __future__ import annotations

import os

from sqlalchemy import delete, insert, select, update

from mb_core.reconcile import WorkerDriver, WorkerLease, process_start_time, this_host
from mb_core.store.worker_tables import build_workers


def take_lease(store, build_id: str, attempt: int, driver: WorkerDriver | str,
               run_id: str | None = None, pid: int | None = None) -> WorkerLease:
    """This process (or `pid`) now works on the build's `attempt`; replaces an older lease."""
    pid = os.getpid() if pid is None else pid
    values = {"attempt": attempt, "driver": WorkerDriver(driver).value, "host": this_host(), "pid": pid,
              "pid_started": process_start_time(pid), "run_id": run_id, "updated_at": store._now()}
    with store._writing() as conn:
        store._require_build(conn, build_id, lock=True)
        moved = conn.execute(
            update(build_workers).where(build_workers.c.build_id == build_id).values(**values)
        ).rowcount
        if moved == 0:
            conn.execute(insert(build_workers).values(build_id=build_id, **values))
        return _lease(conn, build_id)  # type: ignore[return-value]


def give_back_lease(store, build_id: str, pid: int | None = None) -> bool:
    """The worker is done with the build; only the lease's own process (or the reconciler, which
    passes no pid) gives it back. Returns whether a lease was removed."""
    query = delete(build_workers).where(build_workers.c.build_id == build_id)
    if pid is not None:
        query = query.where(build_workers.c.pid == pid, build_workers.c.host == this_host())
    with store._writing() as conn:
        return conn.execute(query).rowcount == 1


def get_lease(store, build_id: str) -> WorkerLease | None:
    with store._reading() as conn:
        return _lease(conn, build_id)


def _lease(conn, build_id: str) -> WorkerLease | None:
    row = conn.execute(select(build_workers).where(build_workers.c.build_id == build_id)).mappings().first()
    return None if row is None else WorkerLease.model_validate(dict(row))
