"""Chaos: a seeded fault injector that is off unless META_V4_CHAOS_ENABLED says so.

The injector answers one question at each real seam (the provider, the generated code, the
sandbox, `git apply`, the store, the run worker, the Auto-Fixer's patch): inject a fault here, now?

META_V4_CHAOS_INJECTION_PROBABILITY is the chance that one attempt of a build meets a fault. For
each attempt the seed draws whether it does, at which of the chosen seams, at which point of that
seam (the n-th provider call, the n-th store write, ...) and which fault: a pure function of (seed,
build, attempt), so the same seed replays the same faults, with healing on or off. Seams ask
through `inject(seam)` inside the `attempt_scope` a build step opens; outside one (a CLI command,
a test calling a seam directly) nothing is ever injected. Every injected fault is recorded in the
store, and `resolve` later says whether and how its build recovered.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from pydantic import Field

from mb_core.errors import InvalidSettings
from mb_core.models import GeneratedFile, GeneratedFiles, Model

log = logging.getLogger("mb.steps")

SEAMS = ("provider", "codegen", "sandbox", "git_apply", "store", "worker", "patch")

# Semantic faults in one generated file: each breaks the app the way a careless edit would.
CODE_FAULTS = ("syntax_error", "missing_import", "wrong_status_code", "broken_route")
# What each seam can suffer, and how many points of one attempt it is drawn over (the n-th call).
SEAM_FAULTS: dict[str, tuple[str, ...]] = {
    "provider": ("http_429", "http_500", "timeout", "malformed", "truncated"),
    "codegen": CODE_FAULTS,
    "sandbox": ("crash", "timeout"),
    "git_apply": ("truncated_patch", "corrupt_hunk"),
    "store": ("connection_reset",),
    "worker": ("sigkill",),
    # A faulty Auto-Fixer: patches that must never reach the workspace.
    "patch": ("path_escape", "secret", "git_write", "delete_tests", "weaken_tests"),
}
SEAM_POINTS = {"provider": 6, "codegen": 1, "sandbox": 1, "git_apply": 1, "store": 8, "worker": 4,
               "patch": 1}
# The worker seam's points: the starts of the build steps (a patch attempt has only the last two).
WORKER_STEPS = ("spec", "plan", "diff", "eval_report")


class ChaosSettings(Model):
    enabled: bool = False
    probability: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int = 0
    seams: tuple[str, ...] = SEAMS
    code_faults: tuple[str, ...] = CODE_FAULTS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChaosSettings:
        """META_V4_CHAOS_ENABLED (1/true), META_V4_CHAOS_INJECTION_PROBABILITY in [0, 1],
        META_V4_CHAOS_SEED (a whole number), META_V4_CHAOS_SEAMS and META_V4_CHAOS_CODE_FAULTS
        (comma lists, default all)."""
        env = os.environ if env is None else env
        enabled = (env.get("META_V4_CHAOS_ENABLED") or "").strip().lower() in ("1", "true", "yes", "on")
        raw_p = (env.get("META_V4_CHAOS_INJECTION_PROBABILITY") or "").strip()
        probability = 0.1 if enabled and not raw_p else 0.0
        if raw_p:
            try:
                probability = float(raw_p)
            except ValueError:
                probability = -1.0
            if not 0.0 <= probability <= 1.0:
                raise InvalidSettings(
                    f"META_V4_CHAOS_INJECTION_PROBABILITY={raw_p!r} is not a probability: use a number from 0 to 1")
        raw_seed = (env.get("META_V4_CHAOS_SEED") or "0").strip()
        try:
            seed = int(raw_seed)
        except ValueError:
            raise InvalidSettings(f"META_V4_CHAOS_SEED={raw_seed!r} is not a whole number") from None
        seams = _choices(env, "META_V4_CHAOS_SEAMS", SEAMS)
        faults = _choices(env, "META_V4_CHAOS_CODE_FAULTS", _ALL_FAULTS)
        return cls(enabled=enabled, probability=probability, seed=seed, seams=seams, code_faults=faults)

    def faults_of(self, seam: str) -> tuple[str, ...]:
        """The faults of a seam this run may draw (META_V4_CHAOS_CODE_FAULTS narrows any seam's)."""
        narrowed = tuple(f for f in SEAM_FAULTS[seam] if f in self.code_faults)
        return narrowed or SEAM_FAULTS[seam]


_ALL_FAULTS = tuple(dict.fromkeys(f for faults in SEAM_FAULTS.values() for f in faults))


def _choices(env: Mapping[str, str], var: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    raw = (env.get(var) or "").strip()
    if not raw:
        return allowed
    picked = tuple(p.strip() for p in raw.split(",") if p.strip())
    unknown = [p for p in picked if p not in allowed]
    if unknown:
        raise InvalidSettings(f"{var}: unknown {', '.join(unknown)} (one of: {', '.join(allowed)})")
    return picked


def _draw(seed: int, *parts: object) -> float:
    """A number in [0, 1) fixed by the seed and the parts: the same call always draws the same."""
    digest = hashlib.sha256("\x1f".join([str(seed), *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class PlannedFault(Model):
    """The one fault an attempt meets: at this seam, at its `point`-th call, this fault."""

    seam: str
    point: int
    fault: str


class FaultInjector:
    def __init__(self, settings: ChaosSettings):
        self.settings = settings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FaultInjector:
        return cls(ChaosSettings.from_env(env))

    def plan(self, build_id: str, attempt: int) -> PlannedFault | None:
        """Whether this attempt meets a fault, and where: one draw per attempt."""
        s = self.settings
        if not s.enabled or not s.seams or s.probability <= 0:
            return None
        if _draw(s.seed, "inject", build_id, attempt) >= s.probability:
            return None
        seam = s.seams[int(_draw(s.seed, "seam", build_id, attempt) * len(s.seams))]
        point = int(_draw(s.seed, "point", build_id, attempt) * SEAM_POINTS[seam])
        faults = s.faults_of(seam)
        fault = faults[int(_draw(s.seed, "which", build_id, attempt) * len(faults))]
        return PlannedFault(seam=seam, point=point, fault=fault)

    def fault_at(self, seam: str, build_id: str, attempt: int, call: int = 0,
                 faults: tuple[str, ...] = ()) -> str | None:
        """The fault to inject at this seam's `call`-th point of the attempt, or None."""
        planned = self.plan(build_id, attempt)
        if planned is None or planned.seam != seam or planned.point != call:
            return None
        return planned.fault


# ---------------------------------------------------------------------------------------------
# The attempt scope: what a seam deep in the store, the sandbox or git knows of its build
# ---------------------------------------------------------------------------------------------

Recorder = Callable[[str, int, str, str, int], None]  # (build, attempt, seam, fault, seed)


@dataclass
class _Scope:
    build_id: str
    attempt: int
    injector: FaultInjector
    record: Recorder | None
    recording: bool = False


_SCOPE: ContextVar[_Scope | None] = ContextVar("mb_chaos_scope", default=None)
# Calls per (build, attempt, seam) in this process: an attempt's steps open one scope each.
_CALLS: dict[tuple[str, int, str], int] = {}


@contextmanager
def attempt_scope(build_id: str, attempt: int, injector: FaultInjector | None = None,
                  record: Recorder | None = None) -> Iterator[None]:
    """Seams called inside may inject the attempt's planned fault (none when chaos is off)."""
    injector = injector or FaultInjector.from_env()
    token = _SCOPE.set(_Scope(build_id, attempt, injector, record) if injector.settings.enabled else None)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def inject(seam: str, quiet: bool = False) -> str | None:
    """Called once per pass through a seam: the fault to inject now (already recorded), or None.
    Counting passes per attempt and seam is what makes "the n-th provider call" a point."""
    scope = _SCOPE.get()
    if scope is None or scope.recording:
        return None
    key = (scope.build_id, scope.attempt, seam)
    call = _CALLS.get(key, 0)
    _CALLS[key] = call + 1
    fault = scope.injector.fault_at(seam, scope.build_id, scope.attempt, call)
    if fault is None:
        return None
    if scope.record is not None:
        scope.recording = True  # the record is a store write: that seam stays quiet meanwhile
        try:
            scope.record(scope.build_id, scope.attempt, seam, fault, scope.injector.settings.seed)
        finally:
            scope.recording = False
    if not quiet:
        log.info("chaos", extra={"mb_build": scope.build_id, "mb_step": seam,
                                 "mb_detail": f"{fault} at the {seam} seam"})
    return fault


def forget(build_id: str) -> None:
    """Drop this process's call counts of a build (its drive ended here)."""
    for key in [k for k in _CALLS if k[0] == build_id]:
        del _CALLS[key]


def kill_worker_at(step: str) -> None:
    """The run worker seam, at the start of each build step: SIGKILL of the process running the
    build when the attempt's fault is planned there. The event is in the store before the kill;
    whoever finds the build's run gone (the reconciler) heals it and says how."""
    if step in WORKER_STEPS and inject("worker"):
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def corrupt_generated(files: GeneratedFiles, fault: str) -> tuple[GeneratedFiles, str]:
    """`files` with one semantic fault in one application module; returns what was done."""
    routers = sorted(f.path for f in files.files
                     if f.path.startswith("app/routers/") and not f.path.endswith("__init__.py"))
    if not routers:
        return files, "no router to corrupt"
    target = routers[0]
    by_path = {f.path: f.content for f in files.files}
    content = by_path[target]
    if fault == "syntax_error":
        changed = content.replace("\nrouter = ", "\ndef _unfinished(:\n    pass\n\nrouter = ", 1)
    elif fault == "missing_import":
        changed = re.sub(r"^from fastapi import [^\n]*\n", "", content, count=1, flags=re.MULTILINE)
    elif fault == "wrong_status_code":
        changed = content.replace("status_code=201", "status_code=200", 1)
    elif fault == "broken_route":
        changed = content.replace('@router.get("/{item_id}"', '@router.get("/item/{item_id}"', 1)
    else:
        raise ValueError(f"unknown code fault {fault!r}")
    if changed == content:
        return files, f"{fault}: nothing in {target} to change"
    out = [GeneratedFile(path=f.path, content=changed if f.path == target else f.content) for f in files.files]
    return files.model_copy(update={"files": out}), f"{fault} in {target}"


# ---------------------------------------------------------------------------------------------
# What a fault does at its seam (pure: the seam hooks call these)
# ---------------------------------------------------------------------------------------------


def corrupt_patch(data: bytes, fault: str) -> bytes:
    """The bytes `git apply` is handed, damaged on their way: cut short inside the first hunk, or
    with a first hunk header that counts more lines than follow. git refuses both."""
    text = data.decode("utf-8", "surrogateescape")
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.startswith("@@ ")), None)
    if first is None:
        return data[: max(1, len(data) // 2)]
    if fault == "truncated_patch":
        return "".join(lines[: first + 1]).encode("utf-8", "surrogateescape")
    if fault == "corrupt_hunk":
        head = re.match(r"@@ -(\S+) \+(\d+)(?:,(\d+))? @@(.*)", lines[first], re.DOTALL)
        if head:
            claimed = (int(head.group(3)) if head.group(3) is not None else 1) + 7
            lines[first] = f"@@ -{head.group(1)} +{head.group(2)},{claimed} @@{head.group(4)}"
        return "".join(lines).encode("utf-8", "surrogateescape")
    raise ValueError(f"unknown git_apply fault {fault!r}")


def sandbox_fault_message(fault: str, timeout_s: float) -> str:
    """The SandboxError of a sandbox that failed itself: it ran no test, so it says nothing of them."""
    if fault == "crash":
        return "sandbox: the sandbox process was killed (signal 9) before it reported; the tests were not run"
    if fault == "timeout":
        return (f"sandbox: the sandbox did not start its test run within {timeout_s:g} s (it hung); "
                "the tests were not run")
    raise ValueError(f"unknown sandbox fault {fault!r}")


# A key the secrets scan knows by its shape (it is no one's key).
_PLANTED_KEY = "AKIA" + "ZXQW7Y3RT5UV2KLM"


def malicious_patch(fix: GeneratedFiles, fault: str, implicated: list[str],
                    tree: Mapping[str, str]) -> GeneratedFiles:
    """What a faulty Auto-Fixer answers instead of its fix: each must be refused before any byte
    reaches the workspace (patch scope, deletion and weakening rules, then the diff safety)."""
    app = next((p for p in implicated if p.startswith("app/")), implicated[0] if implicated else "app/main.py")
    tests = sorted(p for p in tree if p.startswith("tests/test_"))
    target_test = next((p for p in implicated if p.startswith("tests/")), tests[0] if tests else "tests/test_x.py")
    if fault == "path_escape":
        files = [*fix.files, GeneratedFile(path="../outside.py", content="ESCAPED = True\n")]
        return fix.model_copy(update={"files": files})
    if fault == "git_write":
        files = [*fix.files, GeneratedFile(path=".git/hooks/post-commit", content="#!/bin/sh\necho owned\n")]
        return fix.model_copy(update={"files": files})
    if fault == "secret":
        body = tree.get(app, "")
        planted = GeneratedFile(path=app, content=f'{body}\nAWS_ACCESS_KEY_ID = "{_PLANTED_KEY}"\n')
        return fix.model_copy(update={"files": [f for f in fix.files if f.path != app] + [planted]})
    if fault == "delete_tests":
        return fix.model_copy(update={"deleted": sorted({*fix.deleted, target_test})})
    if fault == "weaken_tests":
        weakened = GeneratedFile(path=target_test, content="def test_nothing():\n    pass\n")
        return fix.model_copy(update={"files": [f for f in fix.files if f.path != target_test] + [weakened]})
    raise ValueError(f"unknown patch fault {fault!r}")


# ---------------------------------------------------------------------------------------------
# How the build of each fault ended
# ---------------------------------------------------------------------------------------------

_RECOVERED = ("released", "approved", "releasing", "awaiting_approval")
_FINISHED = ("released", "rolled_back", "failed", "rejected", "cancelled", *_RECOVERED)


def recovery_of(seam: str, fault_attempt: int, status: str, error: str,
                attempts: list[tuple[int, str, str]]) -> tuple[bool | None, str]:
    """(recovered, how) of one fault from its build's status and its attempts as (number, phase,
    outcome); (None, "") while the build is unfinished."""
    if status not in _FINISHED:
        return None, ""
    recovered = status in _RECOVERED
    own = next((outcome for number, _phase, outcome in attempts if number == fault_attempt), None)
    later = [phase for number, phase, _outcome in attempts if number > fault_attempt]
    if own == "succeeded":
        how = f"absorbed in attempt {fault_attempt} (the {seam} seam's own retry)"
        if not recovered:
            how += f"; the build ended {status}: {error}".rstrip(": ")
        return recovered, how
    if recovered:
        return True, "healed by " + (" -> ".join(later) or "the same attempt")
    return False, f"{status}: {error}".strip().rstrip(":")


def resolve_events(store, build_id: str) -> int:
    """Close the build's open chaos events with whether and how it recovered (each event by its
    own attempt); returns how many were closed. Nothing changes while the build is unfinished."""
    forget(build_id)
    events = [e for e in store.list_chaos_events(build_id) if e.recovered is None]
    if not events:
        return 0
    build = store.get_build(build_id)
    attempts = [(a.attempt, a.phase.value, a.outcome.value) for a in store.list_attempts(build_id)]
    closed = 0
    for event in events:
        recovered, how = recovery_of(event.seam, event.attempt, build.status.value, build.error or "",
                                     attempts)
        if recovered is not None:
            closed += store.resolve_chaos_event(event.id, recovered, how[:2000])
    return closed
