"""Run a generated project's tests away from the builder: bubblewrap, a dropped uid, rlimits.

The project is copied into a scratch folder first, so caches, test databases and reports never
reach the workspace. Inside bubblewrap the system is read-only, there is no network, the
environment is cleared, root's home and the folder the project came from are hidden, and the
tests run as uid 65534 under rlimits and a hard timeout. Where bubblewrap is missing or cannot
start, the run falls back to rlimits (and the uid drop where possible) and says so loudly.
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
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from mb_core.errors import SandboxError
from mb_core.models import TestCaseResult, TestOutcome

log = logging.getLogger("mb.sandbox")

SANDBOX_UID = 65534  # "nobody": owns nothing on the host
OUTPUT_CAP = 20_000  # characters of output kept (the tail)
JUNIT_CAP = 50 * 1024 * 1024  # a report larger than this is not read
# Backstop on top of the in-sandbox `timeout`, should the sandbox itself hang while starting.
GRACE_S = 30
# Never hidden under a tmpfs, even if a project happens to sit next to them.
_SYSTEM_DIRS = tuple(Path(p) for p in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                       "/libx32", "/etc", "/dev", "/proc", "/sys", "/var", "/opt"))
_COPY_SKIP = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}

Isolation = Literal["bubblewrap", "rlimits"]


class SandboxLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_mb: int = Field(default=2048, gt=0)  # address space (prlimit --as)
    cpu_s: int | None = Field(default=None, gt=0)  # CPU seconds; None: the run's timeout
    nproc: int = Field(default=256, gt=0)  # processes and threads of the sandbox uid
    fsize_mb: int = Field(default=512, gt=0)  # largest file the tests may write
    nofile: int = Field(default=1024, gt=0)  # open file descriptors


DEFAULT_LIMITS = SandboxLimits()


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


# ---------------------------------------------------------------------------------------------
# Commands (pure: paths in, argv out)
# ---------------------------------------------------------------------------------------------


def _parents(path: Path) -> list[Path]:
    """Every folder from the top down to `path` itself, without "/"."""
    return [p for p in reversed(path.parents) if p != Path("/")] + [path]


def _within(path: Path, others: list[Path]) -> bool:
    return any(path == o or o in path.parents for o in others)


def interpreter_roots() -> list[Path]:
    """The folders the current interpreter needs: its base installation and its venv."""
    roots: list[Path] = []
    for raw in (sys.base_prefix, sys.prefix):
        for candidate in (Path(raw), Path(raw).resolve()):
            if candidate not in roots:
                roots.append(candidate)
    return roots


def hidden_dirs(tree: Path, home: Path | None = None) -> list[Path]:
    """Folders covered by an empty tmpfs: root's (or the user's) home, the folder holding the
    project (other builds' checkouts) and /run (host sockets). /tmp gets its own tmpfs."""
    candidates = [home or Path.home(), tree.parent, Path("/run")]
    out: list[Path] = [Path("/tmp")]
    for path in sorted({c.resolve() for c in candidates if c.is_dir()}, key=lambda p: len(p.parts)):
        if path == Path("/") or _within(path, out):
            continue
        if any(path == s or s in path.parents or path in s.parents for s in _SYSTEM_DIRS):
            continue
        out.append(path)
    return out[1:]


def limit_argv(limits: SandboxLimits, timeout_s: int) -> list[str]:
    mb = 1024 * 1024
    return [
        "prlimit", f"--as={limits.memory_mb * mb}", f"--cpu={limits.cpu_s or timeout_s}",
        f"--nproc={limits.nproc}", f"--fsize={limits.fsize_mb * mb}", f"--nofile={limits.nofile}",
        "timeout", "-s", "KILL", str(timeout_s),
    ]


def setpriv_argv(uid: int = SANDBOX_UID) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all"]


def sandbox_env(home: str) -> dict[str, str]:
    venv_bin = str(Path(sys.prefix) / "bin")
    # pytest loads only the plugins a run names with `-p`: an installed plugin (or one the tree
    # makes importable) never joins the run by itself.
    return {"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def bwrap_argv(bwrap: str, run_dir: Path, workdir: Path, hidden: list[Path], drop_uid: bool,
               inner: list[str]) -> list[str]:
    """The bubblewrap command line: mounts, namespaces, environment, then `inner`."""
    argv = [bwrap, "--ro-bind", "/", "/", "--perms", "1777", "--tmpfs", "/tmp"]
    for path in hidden:
        argv += ["--tmpfs", str(path)]
    for path, mode in [(p, "--ro-bind") for p in interpreter_roots()] + [(run_dir, "--bind")]:
        for parent in _parents(path)[:-1]:
            # bwrap would make missing parents 0700, out of reach of the dropped uid.
            argv += ["--perms", "0755", "--dir", str(parent)]
        argv += [mode, str(path), str(path)]
    argv += ["--chdir", str(workdir), "--unshare-net", "--unshare-pid", "--unshare-ipc",
             "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
             "--clearenv"]
    for key, value in sandbox_env("/tmp").items():
        argv += ["--setenv", key, value]
    if not drop_uid:
        argv += ["--cap-drop", "ALL"]
    argv += ["--dev", "/dev", "--proc", "/proc", "--"]
    return argv + (setpriv_argv() if drop_uid else []) + inner


class PytestRun(NamedTuple):
    """How pytest starts: `entry` after the interpreter's flags (`-m pytest`, or a runner script
    of the caller's), then `args` after the builder's own."""

    entry: list[str]
    args: list[str]


def pytest_argv(junit: Path, run: PytestRun | None = None) -> list[str]:
    # -I: the project folder is never on sys.path before pytest itself is imported (a `pytest.py`
    # in it shadows nothing) and no PYTHON* variable counts; -B and -u stand in for the two the
    # environment sets. xunit1 keeps the `file` attribute, from which the node id is rebuilt.
    run = run or PytestRun(["-m", "pytest"], [])
    return [sys.executable, "-I", "-B", "-u", *run.entry, "-q", "-p", "no:cacheprovider",
            f"--junitxml={junit}", "-o", "junit_family=xunit1", *run.args]


# ---------------------------------------------------------------------------------------------
# Reading the results
# ---------------------------------------------------------------------------------------------


def _nodeid(case: ET.Element) -> str:
    name = case.get("name", "")
    classname = case.get("classname", "")
    file = case.get("file")
    if file:
        module = file[:-3].replace("/", ".") if file.endswith(".py") else file
        rest = classname[len(module):].lstrip(".") if classname.startswith(module) else ""
        return "::".join([file] + ([*rest.split(".")] if rest else []) + [name])
    return f"{classname}::{name}" if classname else name


def parse_junit(text: str) -> list[TestCaseResult]:
    """Test cases from a pytest junit report; [] when it is unreadable."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return []
    results: list[TestCaseResult] = []
    for case in root.iter("testcase"):
        outcome, message = TestOutcome.passed, ""
        for child in case:
            tag = child.tag
            if tag in ("failure", "error", "skipped"):
                outcome = {"failure": TestOutcome.failed, "error": TestOutcome.error,
                           "skipped": TestOutcome.skipped}[tag]
                message = (child.get("message") or (child.text or "")).strip()
                if tag != "skipped":
                    break  # a failure outranks a skip marker of the same case
        try:
            seconds = float(case.get("time") or 0.0)
        except ValueError:
            seconds = 0.0
        results.append(TestCaseResult(nodeid=_nodeid(case), outcome=outcome, seconds=seconds,
                                      message=message[:2000]))
    return results


def _tail(path: Path, chars: int = OUTPUT_CAP) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - chars * 4))
        return fh.read().decode("utf-8", "replace")[-chars:]


# ---------------------------------------------------------------------------------------------
# Running
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


def _chown_tree(root: Path, uid: int) -> None:
    os.lchown(root, uid, uid)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, uid)


def _run(argv: list[str], cwd: Path, env: dict[str, str], log_path: Path,
         wall_s: float) -> tuple[int | None, bool]:
    """(exit code, killed by the backstop). The whole process group dies with it."""
    with log_path.open("ab") as out:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            raise SandboxError(f"sandbox could not start {argv[0]}: {exc.strerror or exc}") from exc
        try:
            return proc.wait(timeout=wall_s), False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None, True


def _quick(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[bool, str]:
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    text = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
    return proc.returncode == 0, text.splitlines()[-1] if text else f"exit code {proc.returncode}"


def _requested_isolation(isolation: str | None) -> str:
    choice = (isolation or os.environ.get("MB_SANDBOX") or "auto").strip().lower()
    if choice not in ("auto", "bubblewrap", "rlimits"):
        raise SandboxError(f"unknown sandbox isolation {choice!r}: use auto, bubblewrap or rlimits")
    return choice


class _Scratch:
    """A fresh scratch folder: run/project (the copy), run/report (junit), output.log."""

    def __init__(self, tree: Path | None, parent: Path | None):
        self.root = Path(tempfile.mkdtemp(prefix="mb-sandbox-", dir=parent))
        # The dropped uid must be able to pass through when there is no bwrap to remount it.
        os.chmod(self.root, 0o755)
        self.run_dir = self.root / "run"
        self.project = self.run_dir / "project"
        self.report = self.run_dir / "report"
        self.home = self.run_dir / "home"
        self.log = self.root / "output.log"
        self.run_dir.mkdir()
        if tree is not None:
            shutil.copytree(tree, self.project, symlinks=True, ignore=_copy_ignore)
        else:
            self.project.mkdir()
        self.report.mkdir()
        self.home.mkdir()

    def give_to(self, uid: int) -> None:
        _chown_tree(self.run_dir, uid)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _plan(scratch: _Scratch, tree: Path, choice: str, limits: list[str], command: list[str]
          ) -> tuple[Isolation, list[str], dict[str, str], Path, int, str | None]:
    """Decide how to run: (isolation, argv, env, cwd, uid, warning).

    Each way is probed with the same chain of wrappers running `python -c pass` first: a failing
    probe is a sandbox that cannot start, while a failing real run is a test result.
    """
    is_root = os.geteuid() == 0
    warning: str | None = None
    inner = limits + command
    probe = limits + [sys.executable, "-c", "pass"]
    bwrap = shutil.which("bwrap")
    if choice != "rlimits":
        if bwrap:
            hidden = hidden_dirs(tree)
            host_env = {"PATH": os.environ.get("PATH") or "/usr/bin:/bin"}
            ok, why = _quick(bwrap_argv(bwrap, scratch.run_dir, scratch.project, hidden, is_root, probe),
                             scratch.project, host_env)
            if ok:
                argv = bwrap_argv(bwrap, scratch.run_dir, scratch.project, hidden, is_root, inner)
                return ("bubblewrap", argv, host_env, scratch.project,
                        SANDBOX_UID if is_root else os.getuid(), None)
            reason = f"bubblewrap failed to start ({why})"
        else:
            reason = "bubblewrap (bwrap) is not installed"
        if choice == "bubblewrap":
            raise SandboxError(f"sandbox: {reason}")
        warning = f"{reason}: tests ran with rlimits only, without network or filesystem isolation"
    else:
        warning = "sandbox forced to rlimits only: no network or filesystem isolation"

    env = sandbox_env(str(scratch.home))
    uid = os.getuid()
    prefix: list[str] = []
    if is_root:
        ok, why = _quick(setpriv_argv() + probe, scratch.project, env)
        if ok:
            prefix, uid = setpriv_argv(), SANDBOX_UID
        else:
            warning += f"; uid {SANDBOX_UID} cannot run the interpreter ({why}), so tests ran as root"
    return "rlimits", prefix + inner, env, scratch.project, uid, warning


# prepare(run_dir, project) -> how pytest starts; may write files under run_dir/harness.
Prepare = Callable[[Path, Path], PytestRun]
HARNESS_DIR = "harness"


def run_tests(tree: Path | str, timeout_s: int = 180, limits: SandboxLimits = DEFAULT_LIMITS,
              isolation: str | None = None, scratch_parent: Path | None = None,
              prepare: Prepare | None = None) -> SandboxResult:
    """Run `python -m pytest` over a copy of `tree` in the sandbox and read its junit report.

    `isolation`: "auto" (default; env MB_SANDBOX may say otherwise), "bubblewrap" (fail rather
    than fall back) or "rlimits" (skip bubblewrap). `prepare` lets the caller add its own files
    (the builder's pytest configuration, its probes) under run/harness, beside the copy, and say
    how pytest starts. A failing test is a result, not an error; SandboxError means the
    tests could not be run at all.
    """
    tree = Path(tree).resolve()
    if not tree.is_dir():
        raise SandboxError(f"sandbox: {tree} is not a folder")
    if timeout_s <= 0:
        raise SandboxError(f"sandbox: timeout must be positive, not {timeout_s}")
    choice = _requested_isolation(isolation)
    try:
        scratch = _Scratch(tree, scratch_parent)
    except OSError as exc:
        raise SandboxError(f"sandbox: could not copy {tree}: {exc.strerror or exc}") from exc
    try:
        junit = scratch.report / "junit.xml"
        run: PytestRun | None = None
        if prepare is not None:
            (scratch.run_dir / HARNESS_DIR).mkdir()
            run = prepare(scratch.run_dir, scratch.project)
        if os.geteuid() == 0:
            scratch.give_to(SANDBOX_UID)
            if prepare is not None:  # the builder's own files stay the builder's: read-only
                _chown_tree(scratch.run_dir / HARNESS_DIR, 0)
        kind, argv, env, cwd, uid, warning = _plan(scratch, tree, choice,
                                                   limit_argv(limits, timeout_s),
                                                   pytest_argv(junit, run))
        if warning:
            log.warning("sandbox: %s", warning)
        started = time.monotonic()
        exit_code, backstopped = _run(argv, cwd, env, scratch.log, timeout_s + GRACE_S)
        seconds = time.monotonic() - started
        # `timeout -s KILL` ends with 128+9; only a kill at or past the deadline is a timeout.
        timed_out = backstopped or (exit_code in (137, -9) and seconds >= timeout_s)
        tests: list[TestCaseResult] = []
        if junit.is_file() and junit.stat().st_size <= JUNIT_CAP:
            tests = parse_junit(junit.read_text(encoding="utf-8", errors="replace"))
        return SandboxResult(isolation=kind, uid=uid, exit_code=exit_code, timed_out=timed_out,
                             seconds=round(seconds, 3), output=_tail(scratch.log), tests=tests,
                             warning=warning)
    finally:
        scratch.remove()


def sandbox_status() -> dict:
    """What a doctor command prints: is bubblewrap there, does a sandboxed command run, as whom."""
    bwrap = shutil.which("bwrap")
    version = None
    if bwrap:
        ok, text = _quick([bwrap, "--version"], Path("/"), {"PATH": os.environ.get("PATH", "")})
        version = text if ok else None
    status: dict = {
        "bwrap": bwrap, "bwrap_version": version,
        "setpriv": shutil.which("setpriv"), "prlimit": shutil.which("prlimit"),
        "timeout": shutil.which("timeout"), "interpreter": sys.executable,
        "requested": os.environ.get("MB_SANDBOX") or "auto",
    }
    scratch = _Scratch(None, None)
    try:
        if os.geteuid() == 0:
            scratch.give_to(SANDBOX_UID)
        try:
            kind, argv, env, cwd, uid, warning = _plan(
                scratch, scratch.project, _requested_isolation(None),
                limit_argv(DEFAULT_LIMITS, 60), [sys.executable, "-c", "import os; print(os.getuid())"])
            ok, text = _quick(argv, cwd, env)
        except SandboxError as exc:
            kind, uid, warning, ok, text = None, None, exc.message, False, exc.message
        status.update(isolation=kind, uid=uid, works=ok, warning=warning,
                      detail=None if ok else text)
    finally:
        scratch.remove()
    return status
