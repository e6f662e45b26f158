"""Which Dagster runs built each build, for the run documents.

Asking Dagster's run storage per GET (a tag query, a new SQLite connection each time) was most of
a GET run's cost. The index keeps the build -> runs map in memory and brings it up to date at
most every `refresh_s` with one query for the runs changed since its last look, so a document is
at most that stale and its cost does not grow with the runs in the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NamedTuple

BUILD_TAG = "mb/build"
# Runs updated within this much of the last look are asked again (timestamps are not unique).
OVERLAP = timedelta(seconds=2)


class RunLink(NamedTuple):
    run_id: str
    job: str
    status: str
    created: float


class DagsterRunIndex:
    def __init__(self, instance: Callable[[], Any], refresh_s: float = 0.5):
        self._instance = instance
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._by_build: dict[str, dict[str, RunLink]] = {}
        self._watermark = None
        self._checked = float("-inf")

    def runs_of(self, build_id: str, limit: int = 20) -> list[RunLink]:
        """The build's runs, newest first."""
        self.refresh()
        runs = self._by_build.get(build_id, {})
        return sorted(runs.values(), key=lambda link: link.created, reverse=True)[:limit]

    def refresh(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._checked < self.refresh_s:
            return
        with self._lock:
            if not force and time.monotonic() - self._checked < self.refresh_s:
                return  # another thread looked while this one waited
            from dagster import RunsFilter

            filters = None if self._watermark is None else RunsFilter(updated_after=self._watermark - OVERLAP)
            watermark = self._watermark
            for record in self._instance().get_run_records(filters=filters):
                run = record.dagster_run
                build_id = run.tags.get(BUILD_TAG)
                if build_id:
                    created = record.create_timestamp.timestamp()
                    # A new dict per change: readers without the lock see the old or the new one.
                    self._by_build[build_id] = {**self._by_build.get(build_id, {}),
                                                run.run_id: RunLink(run.run_id, run.job_name, run.status.value, created)}
                if watermark is None or record.update_timestamp > watermark:
                    watermark = record.update_timestamp
            self._watermark = watermark
            self._checked = time.monotonic()
