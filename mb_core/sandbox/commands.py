"""The sandbox's command lines and shell scripts (pure: paths in, argv out).

Inside either sandbox the layout is the same: one size-capped tmpfs at /tmp holds the project
copy (/tmp/mb/project) and whatever the tests write; pytest's report has a small tmpfs of its own
(/tmp/mb/report), so tests that fill the disk cannot cost the report that names them; the
host's folders that hold builds, stores, homes and sockets are covered by empty tmpfs mounts;
the interpreter is bound back read-only; the tests run as a uid of their own. The junit report
leaves through a file descriptor the tests never hold: the script that starts them closes it for
them, and copies the report out, as the sandbox uid, once they are done.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

TMP = Path("/tmp")
RUN_DIR = TMP / "mb"
PROJECT_DIR = RUN_DIR / "project"
REPORT_DIR = RUN_DIR / "report"
JUNIT = REPORT_DIR / "junit.xml"
SRC_MOUNT = TMP / ".mb-src"  # bubblewrap: the host copy of the project, read-only
# The caller's own files (the builder's pytest configuration, its probes): root's, read-only
# for the sandbox uid, beside the project rather than in it.
HARNESS_DIR = TMP / ".mb-harness"
HARNESS_MOUNT = TMP / ".mb-harness-src"  # bubblewrap: the host copy of the harness, read-only
JUNIT_FD = 3
HIDDEN_TMPFS_SIZE = 64 * 1024  # an empty cover needs no room
# The report's own room: a full /tmp would leave pytest none to write it in, and the run would
# end with no result at all instead of the failing test's name. The report is cut at JUNIT_CAP.
REPORT_TMPFS_SIZE = 64 * 1024 * 1024
# Never hidden: the system itself. A private path holding one of these cannot be hidden.
SYSTEM_DIRS = tuple(Path(p) for p in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                      "/libx32", "/etc", "/dev", "/proc", "/sys"))
# World-writable places of a host that the fallback points at its one capped tmpfs.
SHARED_WRITABLE = (Path("/var/tmp"), Path("/dev/shm"))
EXIT_SANDBOX_SETUP = 125  # the script could not set the sandbox up (not a test result)
TOOL_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Tools:
    """Absolute paths of the programs the sandbox needs; None where the host lacks one."""

    bwrap: str | None
    unshare: str | None
    setpriv: str | None
    prlimit: str | None
    timeout: str | None
    sh: str | None
    mount: str | None

    @classmethod
    def find(cls, path_env: str) -> Tools:
        # bubblewrap is looked up on PATH only, so a PATH without it means "not installed"; the
        # util-linux and coreutils programs first where the system keeps them, which stays
        # visible inside the sandbox.
        both = f"{TOOL_PATH}:{path_env}" if path_env else TOOL_PATH
        return cls(bwrap=shutil.which("bwrap", path=path_env or None),
                   **{name: shutil.which(name, path=both)
                      for name in ("unshare", "setpriv", "prlimit", "timeout", "sh", "mount")})

    def missing(self, names: tuple[str, ...]) -> list[str]:
        return [name for name in names if getattr(self, name) is None]


def _q(path: Path | str) -> str:
    return shlex.quote(str(path))


def within(path: Path, others: list[Path] | tuple[Path, ...]) -> bool:
    return any(path == o or o in path.parents for o in others)


def parents(path: Path) -> list[Path]:
    """Every folder from the top down to `path` itself, without "/"."""
    return [p for p in reversed(path.parents) if p != Path("/")] + [path]


def interpreter_roots() -> list[Path]:
    """The folders the current interpreter needs: its base installation and its venv."""
    roots: list[Path] = []
    for raw in (sys.base_prefix, sys.prefix):
        for candidate in (Path(raw), Path(raw).resolve()):
            if candidate not in roots:
                roots.append(candidate)
    return roots


def hidden_dirs(tree: Path | None, private: list[Path], home: Path | None = None
                ) -> tuple[list[Path], list[str]]:
    """(folders covered by an empty tmpfs, private paths that cannot be hidden and why).

    Always: root's (or the user's) home, the folder holding the project (other checkouts) and
    /run (host sockets); then every private path of the build (the builder's home, Dagster's
    home, the store's folder, the target repository). /tmp gets its own capped tmpfs, so a folder
    under it is hidden with it.
    """
    candidates = [home or Path.home(), Path("/run")] + ([tree.parent] if tree else [])
    candidates += list(private)
    refused: list[str] = []
    out: list[Path] = []
    for path in sorted({c.resolve() for c in candidates}, key=lambda p: (len(p.parts), str(p))):
        if not path.is_dir() or within(path, out):
            continue
        if path == Path("/") or any(path == s or path in s.parents for s in SYSTEM_DIRS) \
                or within(path, [s for s in SYSTEM_DIRS if s != Path("/etc")]):
            if path in (c.resolve() for c in private):
                refused.append(f"{path} (a system folder or one that holds them)")
            continue
        out.append(path)
    return out, refused


def mounted_hidden(hidden: list[Path]) -> list[Path]:
    """The hidden folders that need a mount of their own (those under /tmp go with it)."""
    return [p for p in hidden if not within(p, [TMP])]


def readonly_mounts(mountinfo: str, skip: list[Path]) -> list[Path]:
    """Host mount points the fallback remounts read-only in its mount namespace: every writable
    one except the kernel's own file systems and what the sandbox covers anyway."""
    points: list[Path] = []
    for line in mountinfo.splitlines():
        fields = line.split(" - ")[0].split()
        if len(fields) < 6:
            continue
        point = Path(fields[4].replace("\\040", " ").replace("\\011", "\t")
                     .replace("\\012", "\n").replace("\\134", "\\"))
        if "ro" in fields[5].split(","):
            continue
        if within(point, [Path("/proc"), Path("/sys"), Path("/dev"), TMP, *skip]):
            continue
        if point not in points:
            points.append(point)
    return sorted(points, key=lambda p: len(p.parts))


def setpriv_argv(setpriv: str, uid: int) -> list[str]:
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all"]


def sandbox_env() -> dict[str, str]:
    venv_bin = str(Path(sys.prefix) / "bin")
    return {"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": str(TMP), "LANG": "C.UTF-8",
            "USER": "sandbox", "LOGNAME": "sandbox",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
            # pytest loads only the plugins a run names with `-p`: an installed plugin (or one
            # the tree makes importable) never joins the run by itself.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def run_script(tools: Tools, uid: int | None, copy_from: Path | None, junit_cap: int,
               harness_from: Path | None = None) -> str:
    """The part both sandboxes share, run as root (or the user) inside them: copy the project into
    the capped /tmp, give it to the sandbox uid, run "$@" without the report descriptor, then hand
    the report out through it, read as the sandbox uid."""
    fail = f"exit {EXIT_SANDBOX_SETUP}"
    lines = ["umask 022",
             f"mkdir -p {_q(PROJECT_DIR)} {_q(REPORT_DIR)} || {fail}"]
    if copy_from is not None:
        lines.append(f"cp -a {_q(copy_from)}/. {_q(PROJECT_DIR)} || "
                     f"{{ echo 'sandbox: the project does not fit the sandbox disk' >&2; {fail}; }}")
    if harness_from is not None:
        # harness/ stays root's and read-only; run/ (a one-time key, say) joins the run folder,
        # which the sandbox uid is given below.
        lines += [f"mkdir -p {_q(HARNESS_DIR)} || {fail}",
                  f"cp -R {_q(harness_from)}/harness/. {_q(HARNESS_DIR)} || {fail}",
                  f"chmod -R go-w {_q(HARNESS_DIR)} || {fail}",
                  f"cp -R {_q(harness_from)}/run/. {_q(RUN_DIR)} || {fail}"]
    drop = ""
    if uid is not None:
        lines.append(f"chown -R {uid}:{uid} {_q(RUN_DIR)} || {fail}")
        drop = " ".join(_q(a) for a in setpriv_argv(tools.setpriv or "setpriv", uid)) + " "
    lines += [
        f"cd {_q(PROJECT_DIR)} || {fail}",
        f'"$@" {JUNIT_FD}>&-',
        "rc=$?",
        f"if [ -f {_q(JUNIT)} ]; then {drop}head -c {junit_cap} {_q(JUNIT)} >&{JUNIT_FD}; fi",
        "exit $rc",
    ]
    return "\n".join(lines) + "\n"


def fallback_script(tools: Tools, scratch: Path, src: Path, roots: list[Path],
                    hidden: list[Path], ro: list[Path], disk_bytes: int,
                    harness: Path | None = None) -> str:
    """The fallback's own mounts, run as root in fresh mount, pid, net, ipc and uts namespaces:
    the capped tmpfs is filled in a corner of the scratch folder, the interpreter is set aside,
    the private folders are covered, the interpreter is put back read-only where the sandbox uid
    can reach it, the tmpfs is moved over /tmp, and the host's file systems become read-only."""
    mount = _q(tools.mount or "mount")
    fail = f"exit {EXIT_SANDBOX_SETUP}"
    newtmp, stage = scratch / "newtmp", scratch / "stage"
    lines = ["set -u", "umask 022",
             f"{mount} -n --make-rprivate / || {fail}",
             f"mkdir -p {_q(newtmp)} || {fail}",
             (f"{mount} -n -t tmpfs -o size={disk_bytes},mode=1777,nosuid,nodev mb-sandbox "
              f"{_q(newtmp)} || {fail}"),
             f"mkdir -p {_q(newtmp / REPORT_DIR.relative_to(TMP))} || {fail}",
             (f"{mount} -n -t tmpfs -o size={REPORT_TMPFS_SIZE},mode=1777,nosuid,nodev mb-report "
              f"{_q(newtmp / REPORT_DIR.relative_to(TMP))} || {fail}")]
    covers = hidden + [TMP]
    staged = [(i, r) for i, r in enumerate(roots) if within(r, covers) and not within(r, [scratch])]
    for i, root in staged:
        lines += [f"mkdir -p {_q(stage / str(i))} || {fail}",
                  f"{mount} -n --bind {_q(root)} {_q(stage / str(i))} || {fail}",
                  f"{mount} -n -o remount,bind,ro,nosuid,nodev {_q(stage / str(i))} || {fail}"]
    # A private folder inside a root that is put back is covered after it.
    late = [p for p in hidden if any(r in p.parents for _, r in staged)]

    def cover(path: Path) -> str:
        return (f"{mount} -n -t tmpfs -o size={HIDDEN_TMPFS_SIZE},mode=0755,nosuid,nodev "
                f"mb-hidden {_q(path)} || {fail}")

    lines += [cover(p) for p in hidden if p not in late]
    for i, root in staged:
        target = newtmp / root.relative_to(TMP) if within(root, [TMP]) else root
        lines += [f"mkdir -p {_q(target)} || {fail}",
                  f"{mount} -n --move {_q(stage / str(i))} {_q(target)} || {fail}"]
    lines += [cover(p) for p in late]
    lines += [f"mkdir -p {_q(newtmp / PROJECT_DIR.relative_to(TMP))} || {fail}",
              (f"cp -a {_q(src)}/. {_q(newtmp / PROJECT_DIR.relative_to(TMP))} || "
               f"{{ echo 'sandbox: the project does not fit the sandbox disk' >&2; {fail}; }}"),
              ]
    if harness is not None:
        staged_harness = newtmp / HARNESS_MOUNT.relative_to(TMP)
        lines += [f"mkdir -p {_q(staged_harness)} || {fail}",
                  f"cp -R {_q(harness)}/. {_q(staged_harness)} || {fail}"]
    lines += [f"{mount} -n --move {_q(newtmp)} {_q(TMP)} || {fail}"]
    for path in SHARED_WRITABLE:
        corner = TMP / f".mb{str(path).replace('/', '-')}"
        lines.append(f"if [ -d {_q(path)} ]; then mkdir -p {_q(corner)} && chmod 1777 {_q(corner)}"
                     f" && {mount} -n --bind {_q(corner)} {_q(path)} || {fail}; fi")
    for point in ro:
        lines.append(f"{mount} -n -o remount,bind,ro {_q(point)} || {fail}")
    return "\n".join(lines) + "\n"


def bwrap_argv(tools: Tools, src: Path, hidden: list[Path], disk_bytes: int, drop_uid: bool,
               harness: Path | None = None) -> list[str]:
    """bubblewrap's mounts, namespaces and environment, up to (not including) the command."""
    argv = [tools.bwrap or "bwrap", "--ro-bind", "/", "/",
            "--size", str(disk_bytes), "--perms", "1777", "--tmpfs", str(TMP),
            # bwrap would make /tmp/mb 0700; run_script gives the run folder to the sandbox uid
            "--perms", "0755", "--dir", str(RUN_DIR),
            "--size", str(REPORT_TMPFS_SIZE), "--perms", "1777", "--tmpfs", str(REPORT_DIR)]
    # Outer folders first: a cover over /root, then the interpreter bound back inside it; a
    # private folder inside the venv is covered after the venv is bound.
    mounts = [(p, "cover") for p in mounted_hidden(hidden)]
    mounts += [(r, "bind") for r in interpreter_roots() if not within(r, [TMP])]
    for path, kind in sorted(mounts, key=lambda m: len(m[0].parts)):
        if kind == "cover":
            argv += ["--tmpfs", str(path)]
            continue
        for parent in parents(path)[:-1]:
            # bwrap would make missing parents 0700, out of reach of the dropped uid.
            argv += ["--perms", "0755", "--dir", str(parent)]
        argv += ["--ro-bind", str(path), str(path)]
    for root in interpreter_roots():
        if within(root, [TMP]):  # an interpreter under /tmp, bound back into the capped tmpfs
            for parent in parents(root)[:-1]:
                if parent != TMP:  # bwrap would make them 0700, out of reach of the dropped uid
                    argv += ["--perms", "0755", "--dir", str(parent)]
            argv += ["--ro-bind", str(root), str(root)]
    if harness is not None:
        argv += ["--ro-bind", str(harness), str(HARNESS_MOUNT)]
    argv += ["--ro-bind", str(src), str(SRC_MOUNT),
             "--chdir", str(TMP), "--unshare-net", "--unshare-pid", "--unshare-ipc",
             "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
             "--clearenv"]
    for key, value in sandbox_env().items():
        argv += ["--setenv", key, value]
    if not drop_uid:
        argv += ["--cap-drop", "ALL"]
    return argv + ["--dev", "/dev", "--proc", "/proc", "--"]


def unshare_argv(tools: Tools) -> list[str]:
    return [tools.unshare or "unshare", "--net", "--pid", "--fork", "--kill-child", "--mount",
            "--mount-proc", "--ipc", "--uts", "--"]


def host_wrapper(sh: str, junit_out: Path, procs_files: list[Path], argv: list[str]) -> list[str]:
    """Runs `argv` from a shell that first opens the report descriptor and joins the sandbox's
    control groups, so every process the sandbox ever starts is counted from its first moment."""
    script = (f'exec {JUNIT_FD}>"$1" || exit {EXIT_SANDBOX_SETUP}; shift\n'
              'while [ "$1" != "--" ]; do\n'
              f'  echo $$ > "$1" || exit {EXIT_SANDBOX_SETUP}; shift\n'
              'done\nshift\nexec "$@"\n')
    return [sh, "-c", script, "mb-sandbox", str(junit_out), *map(str, procs_files), "--", *argv]


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
