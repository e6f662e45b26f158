"""Run a generated project's tests away from the builder, and say exactly how far away.

The project is copied into a scratch folder, then into a size-capped tmpfs inside the sandbox, so
caches, test databases and reports never reach the workspace or the host's disk. bubblewrap is
the first choice; where it is missing or cannot start, the fallback builds the same sandbox from
util-linux (`unshare` for the namespaces, `mount` for the covers). Either way the tests run as a
uid of their own, in control groups that cap memory and processes for the whole sandbox, under
rlimits and a hard timeout. Generated code never runs as root: when neither sandbox can start for
that uid, the tests are not run and SandboxError says why.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from mb_core import chaos
from mb_core.errors import SandboxError
from mb_core.models import SandboxCap, TestCaseResult
from mb_core.sandbox import commands as cmd
from mb_core.sandbox.cgroups import SandboxCgroup, host_hierarchies
from mb_core.sandbox.commands import PytestRun
from mb_core.sandbox.junit import parse_junit
from mb_core.sandbox.limits import DEFAULT_LIMITS, MB, SandboxLimits, limit_argv, process_caps
from mb_core.sandbox.uids import SANDBOX_UIDS, allocate_uid

log = logging.getLogger("mb.sandbox")

OUTPUT_CAP = 20_000  # characters of output kept (the tail)
JUNIT_CAP = 50 * 1024 * 1024  # the report is cut here (and then no longer parses)
# Backstop on top of the in-sandbox `timeout`, should the sandbox itself hang while starting.
GRACE_S = 30
_COPY_SKIP = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_FALLBACK_TOOLS = ("unshare", "mount", "setpriv", "prlimit", "timeout", "sh")

Isolation = Literal["bubblewrap", "rlimits"]


class SandboxResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    isolation: Isolation
    uid: int
    exit_code: int | None
    timed_out: bool = False
    seconds: float
    output: str = ""  # stdout and stderr together, the last OUTPUT_CAP characters
    tests: list[TestCaseResult] = Field(default_factory=list)
    warning: str | None = None
    network: bool = False
    namespaces: list[str] = Field(default_factory=list)
    hidden: list[str] = Field(default_factory=list)
    writable: list[str] = Field(default_factory=list)
    caps: list[SandboxCap] = Field(default_factory=list)
    limits_hit: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


def _run(argv: list[str], env: dict[str, str], wall_s: float,
         after_exit=None) -> tuple[int | None, bool, str]:
    """(exit code, killed by the backstop, output tail). Output is read through a pipe and only
    its tail is kept, so a chatty test cannot fill the host's disk or the builder's memory."""
    try:
        proc = subprocess.Popen(argv, cwd="/", env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
    except OSError as exc:
        raise SandboxError(f"sandbox could not start {argv[0]}: {exc.strerror or exc}") from exc
    tail = bytearray()
    keep = OUTPUT_CAP * 4

    def read() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(65536):
            tail.extend(chunk)
            if len(tail) > 2 * keep:
                del tail[:-keep]

    reader = threading.Thread(target=read, name="mb-sandbox-output", daemon=True)
    reader.start()
    try:
        code, backstopped = proc.wait(timeout=wall_s), False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        code, backstopped = proc.wait(), True
    if after_exit is not None:
        after_exit()  # kill what is left of the sandbox, which also closes the pipe
    reader.join(timeout=10)
    text = bytes(tail[-keep:]).decode("utf-8", "replace")[-OUTPUT_CAP:]
    return (None if backstopped else code), backstopped, text


def _last_line(text: str, code: int | None) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {code}"


# ---------------------------------------------------------------------------------------------
# The scratch folder and one launch plan
# ---------------------------------------------------------------------------------------------


def _copy_ignore(folder: str, names: list[str]) -> set[str]:
    """Skip caches and VCS data, and anything that is not a file, folder or link (a FIFO would
    block the copy)."""
    skipped = set()
    for name in names:
        if name in _COPY_SKIP or name.endswith(".pyc"):
            skipped.add(name)
            continue
        mode = os.lstat(os.path.join(folder, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            skipped.add(name)
    return skipped


class _Scratch:
    """root (0700: the sandbox uid never sees it) holding src (the copy), out (the report) and
    harness (the caller's own files: harness/ read-only inside, run/ given to the sandbox uid)."""

    def __init__(self, tree: Path | None, parent: Path | None):
        self.root = Path(tempfile.mkdtemp(prefix="mb-sandbox-", dir=parent))
        os.chmod(self.root, 0o700)
        self.src = self.root / "src"
        self.out = self.root / "out"
        self.harness: Path | None = None
        self.out.mkdir(mode=0o700)
        if tree is not None:
            shutil.copytree(tree, self.src, symlinks=True, ignore=_copy_ignore)
        else:
            self.src.mkdir()

    def add_harness(self, prepare: Prepare) -> PytestRun:
        self.harness = self.root / "harness"
        (self.harness / "harness").mkdir(parents=True)
        (self.harness / "run").mkdir()
        return prepare(Harness(self.harness / "harness", self.harness / "run", self.src,
                               cmd.HARNESS_DIR, cmd.RUN_DIR, cmd.PROJECT_DIR))

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class Harness(NamedTuple):
    """Where a caller's files go on the host, and where the sandbox sees them."""

    host_dir: Path  # files here appear read-only at `inside_dir`
    host_run: Path  # files here appear in `run_dir`, owned by the sandbox uid
    host_project: Path  # the host copy of the project (to read, never to change)
    inside_dir: Path
    run_dir: Path
    project: Path  # the project copy, inside


# prepare(harness) -> how pytest starts; it writes the caller's files on the host side.
Prepare = Callable[[Harness], PytestRun]


@dataclass
class _Plan:
    """How one sandbox launches: `prefix` + the command, and what it really gives the tests."""

    isolation: Isolation
    prefix: list[str]
    env: dict[str, str]
    namespaces: list[str]
    writable: list[str]
    warnings: list[str] = field(default_factory=list)


def _requested_isolation(isolation: str | None) -> str:
    choice = (isolation or os.environ.get("MB_SANDBOX") or "auto").strip().lower()
    if choice not in ("auto", "bubblewrap", "rlimits"):
        raise SandboxError(f"unknown sandbox isolation {choice!r}: use auto, bubblewrap or rlimits")
    return choice


def _bwrap_plan(tools: cmd.Tools, scratch: _Scratch, hidden: list[Path], uid: int | None,
                limits: SandboxLimits) -> _Plan:
    harness = cmd.HARNESS_MOUNT if scratch.harness else None
    inner = cmd.run_script(tools, uid, cmd.SRC_MOUNT, JUNIT_CAP, harness)
    prefix = cmd.bwrap_argv(tools, scratch.src, hidden, limits.disk_mb * MB, uid is not None,
                            scratch.harness)
    namespaces = ["mount", "net", "pid", "ipc", "uts"]
    if Path("/proc/self/ns/cgroup").exists():
        namespaces.append("cgroup")
    return _Plan("bubblewrap", prefix + [tools.sh or "/bin/sh", "-c", inner, "mb-sandbox"],
                 {"PATH": os.environ.get("PATH") or "/usr/bin:/bin"}, namespaces, [str(cmd.TMP)])


def _fallback_plan(tools: cmd.Tools, scratch: _Scratch, hidden: list[Path], uid: int,
                   limits: SandboxLimits) -> _Plan:
    mounted = cmd.mounted_hidden(hidden)
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    except OSError as exc:
        raise SandboxError(f"sandbox: cannot read the host's mounts ({exc})") from exc
    ro = cmd.readonly_mounts(mountinfo, mounted)
    setup = cmd.fallback_script(tools, scratch.root, scratch.src, cmd.interpreter_roots(),
                                mounted, ro, limits.disk_mb * MB, scratch.harness)
    script = setup + cmd.run_script(tools, uid, None, JUNIT_CAP,
                                    cmd.HARNESS_MOUNT if scratch.harness else None)
    writable = [str(cmd.TMP)] + [str(p) for p in cmd.SHARED_WRITABLE if p.is_dir()]
    return _Plan("rlimits", cmd.unshare_argv(tools) + [tools.sh or "/bin/sh", "-c", script,
                                                        "mb-sandbox"],
                 cmd.sandbox_env(), ["mount", "net", "pid", "ipc", "uts"], writable)


@dataclass
class _Session:
    """One sandbox: its scratch folder, uid, control groups and the chosen launch plan."""

    scratch: _Scratch
    uid: int
    cgroup: SandboxCgroup | None
    plan: _Plan
    hidden: list[Path]
    limits: SandboxLimits
    timeout_s: int
    tools: cmd.Tools
    pytest: PytestRun | None = None  # how the caller's harness starts pytest, if it has one

    def command(self, inner: list[str]) -> list[str]:
        drop = (cmd.setpriv_argv(self.tools.setpriv or "setpriv", self.uid)
                if os.geteuid() == 0 else [])
        limits = limit_argv(self.tools.prlimit or "prlimit", self.tools.timeout or "timeout",
                            self.limits, self.timeout_s)
        return self.plan.prefix + drop + limits + inner

    def launch(self, inner: list[str], junit_out: Path, wall_s: float) -> tuple[int | None, bool, str]:
        procs = self.cgroup.procs_files if self.cgroup else []
        argv = cmd.host_wrapper(self.tools.sh or "/bin/sh", junit_out, procs, self.command(inner))
        return _run(argv, self.plan.env, wall_s, after_exit=self._kill_leftovers)

    def _kill_leftovers(self) -> None:
        if self.cgroup is not None:
            for path in self.cgroup.procs_files:
                for pid in path.read_text().split() if path.exists() else []:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass

    def probe(self) -> tuple[bool, str]:
        """Start the whole chain with `python -c pass` as the sandbox uid: a failing probe is a
        sandbox that cannot start (or cannot reach the interpreter), not a test result."""
        code, _, text = self.launch([sys.executable, "-c", "pass"], self.scratch.out / "probe.xml",
                                    60)
        return code == 0, _last_line(text, code)


def _check_fallback_tools(tools: cmd.Tools) -> str | None:
    missing = tools.missing(_FALLBACK_TOOLS)
    return f"the fallback sandbox needs {', '.join(missing)}" if missing else None


@contextmanager
def _session(tree: Path | None, choice: str, limits: SandboxLimits, timeout_s: int,
             scratch_parent: Path | None, private: Sequence[Path],
             prepare: Prepare | None = None) -> Iterator[_Session]:
    is_root = os.geteuid() == 0
    tools = cmd.Tools.find(os.environ.get("PATH", ""))
    hidden, refused = cmd.hidden_dirs(tree, [Path(p) for p in private])
    if refused:
        raise SandboxError(f"sandbox: cannot hide {', '.join(refused)}; the tests were not run")
    if not is_root and choice == "rlimits":
        raise SandboxError("sandbox: the fallback sandbox needs root (to drop to a sandbox uid); "
                           "the tests were not run")
    with ExitStack() as stack:
        try:
            scratch = _Scratch(tree, scratch_parent)
        except OSError as exc:
            raise SandboxError(f"sandbox: could not copy {tree}: {exc.strerror or exc}") from exc
        stack.callback(scratch.remove)
        session_run = scratch.add_harness(prepare) if prepare is not None else None
        if cmd.within(scratch.root, cmd.mounted_hidden(hidden)):
            raise SandboxError(f"sandbox: the scratch folder {scratch.root} lies in a folder the "
                               "sandbox hides; choose another scratch folder")
        uid = stack.enter_context(allocate_uid()) if is_root else os.getuid()
        cgroup = SandboxCgroup.create(str(uid), limits.memory_mb * MB, limits.nproc)
        stack.callback(cgroup.remove)
        reasons: list[str] = []
        session: _Session | None = None
        if choice != "rlimits":
            if tools.bwrap and tools.sh:
                candidate = _Session(scratch, uid, cgroup,
                                     _bwrap_plan(tools, scratch, hidden, uid if is_root else None,
                                                 limits),
                                     hidden, limits, timeout_s, tools)
                ok, why = candidate.probe()
                if ok:
                    session = candidate
                else:
                    reasons.append(f"bubblewrap failed to start ({why})")
            else:
                reasons.append("bubblewrap (bwrap) is not installed")
            if session is None and choice == "bubblewrap":
                raise SandboxError(f"sandbox: {reasons[-1]}; the tests were not run")
        else:
            reasons.append("sandbox forced to the fallback (isolation rlimits)")
        if session is None:
            missing = _check_fallback_tools(tools)
            if not is_root:
                raise SandboxError(f"sandbox: {'; '.join(reasons)}, and the fallback sandbox "
                                   "needs root; the tests were not run")
            if missing:
                raise SandboxError(f"sandbox: {'; '.join(reasons)}, and {missing}; "
                                   "the tests were not run")
            candidate = _Session(scratch, uid, cgroup,
                                 _fallback_plan(tools, scratch, hidden, uid, limits),
                                 hidden, limits, timeout_s, tools)
            ok, why = candidate.probe()
            if not ok:
                raise SandboxError(
                    f"sandbox: {'; '.join(reasons)}, and the fallback sandbox cannot run the "
                    f"interpreter as uid {uid} ({why}); generated code never runs as root, so "
                    "the tests were not run")
            candidate.plan.warnings.append(
                f"{'; '.join(reasons)}: tests ran in the fallback sandbox (util-linux unshare "
                "namespaces, uid drop, cgroups, rlimits)")
            session = candidate
        session.plan.warnings.extend(cgroup.warnings)
        session.pytest = session_run
        yield session


def run_tests(tree: Path | str, timeout_s: int = 180, limits: SandboxLimits = DEFAULT_LIMITS,
              isolation: str | None = None, scratch_parent: Path | None = None,
              private: Sequence[Path | str] = (), prepare: Prepare | None = None
              ) -> SandboxResult:
    """Run `python -m pytest` over a copy of `tree` in the sandbox and read its junit report.

    `isolation`: "auto" (default; env MB_SANDBOX may say otherwise), "bubblewrap" (fail rather
    than fall back) or "rlimits" (skip bubblewrap for the util-linux fallback). `private`: host
    folders the tests must not see (the builder's home, Dagster's home, the store's folder, the
    target repository), on top of root's home, the project's parent folder and /run. A failing
    test is a result, not an error; SandboxError means the tests were not run at all.
    `prepare` lets the caller add its own files (the builder's pytest configuration, its
    probes), read-only beside the project, and say how pytest starts.
    """
    tree = Path(tree).resolve()
    if not tree.is_dir():
        raise SandboxError(f"sandbox: {tree} is not a folder")
    if timeout_s <= 0:
        raise SandboxError(f"sandbox: timeout must be positive, not {timeout_s}")
    fault = chaos.inject("sandbox")  # the chaos seam: the sandbox itself fails, not the tests
    if fault:
        raise SandboxError(chaos.sandbox_fault_message(fault, timeout_s))
    choice = _requested_isolation(isolation)
    with _session(tree, choice, limits, timeout_s, scratch_parent,
                  [Path(p) for p in private], prepare) as session:
        warning = "; ".join(session.plan.warnings) or None
        if warning:
            log.warning("sandbox: %s", warning)
        junit_out = session.scratch.out / "junit.xml"
        started = time.monotonic()
        exit_code, backstopped, output = session.launch(cmd.pytest_argv(cmd.JUNIT, session.pytest), junit_out,
                                                        timeout_s + GRACE_S)
        seconds = time.monotonic() - started
        limits_hit = session.cgroup.limits_hit() if session.cgroup else []
        # `timeout -s KILL` ends with 128+9; only a kill at or past the deadline is a timeout.
        timed_out = backstopped or (exit_code in (137, -9) and seconds >= timeout_s)
        tests: list[TestCaseResult] = []
        if junit_out.is_file():
            tests = parse_junit(junit_out.read_text(encoding="utf-8", errors="replace"))
        caps = list(session.cgroup.caps if session.cgroup else [])
        caps.append(SandboxCap(name="disk", limit=limits.disk_mb * MB, unit="bytes",
                               scope="sandbox", via="tmpfs"))
        caps += process_caps(limits, timeout_s, per_uid=os.geteuid() == 0)
        return SandboxResult(
            isolation=session.plan.isolation, uid=session.uid, exit_code=exit_code,
            timed_out=timed_out, seconds=round(seconds, 3), output=output, tests=tests,
            warning=warning, network=False, namespaces=session.plan.namespaces,
            # A folder under /tmp is hidden with the host's /tmp, and named by it alone: its
            # scratch names change on every run.
            hidden=[str(p) for p in cmd.mounted_hidden(session.hidden)] + [str(cmd.TMP)],
            writable=session.plan.writable, caps=caps, limits_hit=limits_hit)


def sandbox_status(private: Sequence[Path | str] = ()) -> dict:
    """What a doctor command prints: the tools, the control groups, and whether a sandboxed
    command runs, in which sandbox and as whom."""
    tools = cmd.Tools.find(os.environ.get("PATH", ""))
    version = None
    if tools.bwrap:
        try:
            done = subprocess.run([tools.bwrap, "--version"], capture_output=True, timeout=10,
                                  check=False)
            version = done.stdout.decode().strip() or None
        except (OSError, subprocess.TimeoutExpired):
            version = None
    status: dict = {
        "bwrap": tools.bwrap, "bwrap_version": version, "unshare": tools.unshare,
        "setpriv": tools.setpriv, "prlimit": tools.prlimit, "timeout": tools.timeout,
        "interpreter": sys.executable, "requested": os.environ.get("MB_SANDBOX") or "auto",
        "cgroups": ", ".join(f"{h.controller}=v{h.version}"
                             for h in host_hierarchies().values()) or "none",
        "uids": f"{SANDBOX_UIDS.start}-{SANDBOX_UIDS.stop - 1}",
    }
    try:
        with _session(None, _requested_isolation(None), DEFAULT_LIMITS, 60, None,
                      [Path(p) for p in private]) as session:
            out = session.scratch.out / "uid.txt"
            code, _, text = session.launch(
                [sys.executable, "-c", "import os; print(os.getuid())"], out, 60)
            ok = code == 0
            status.update(isolation=session.plan.isolation, uid=session.uid, works=ok,
                          network=False, hidden=" ".join(str(p) for p in session.hidden),
                          warning="; ".join(session.plan.warnings) or None,
                          detail=None if ok else _last_line(text, code))
    except SandboxError as exc:
        status.update(isolation=None, uid=None, works=False, warning=exc.message,
                      detail=exc.message)
    return status
