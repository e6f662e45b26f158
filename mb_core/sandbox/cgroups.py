"""Whole-sandbox caps on memory and processes: one control group per sandbox run.

A per-process rlimit lets three children hold three times the memory cap, and `prlimit --nproc`
counts every process of a uid on the machine. A control group counts the sandbox as a whole. The
group is made under the builder's own group (so the host's limits on the builder still hold) in
the memory and pids hierarchies of cgroup v1, or in the unified cgroup v2 tree, whichever the
machine has; a controller that cannot be used is reported, never assumed.
"""

from __future__ import annotations

import errno
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from mb_core.models import SandboxCap

CONTROLLERS = ("memory", "pids")


@dataclass(frozen=True)
class Hierarchy:
    """Where one controller lives for this process: the folder of the builder's own group."""

    controller: str
    version: int  # 1 or 2
    own_dir: Path


def _unescape(field_: str) -> str:
    # mountinfo escapes spaces, tabs, newlines and backslashes as octal.
    return (field_.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
            .replace("\\134", "\\"))


def _inside(mount_root: str, group: str) -> str | None:
    """The group's path below a mount whose root is `mount_root`; None when the mount does not
    show the group (a bind of another part of the tree)."""
    if mount_root == "/":
        return group
    if group == mount_root or group.startswith(mount_root.rstrip("/") + "/"):
        return group[len(mount_root.rstrip("/")):] or "/"
    return None


def find_hierarchies(mountinfo: str, self_cgroup: str) -> dict[str, Hierarchy]:
    """For each controller in CONTROLLERS, where this process's group is (pure: the texts of
    /proc/self/mountinfo and /proc/self/cgroup in). A v1 hierarchy wins over the unified tree,
    as the kernel binds a controller to one hierarchy only."""
    groups_v1: dict[str, str] = {}
    group_v2: str | None = None
    for line in self_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hid, names, path = parts
        if hid == "0" and names == "":
            group_v2 = path
        for name in names.split(","):
            groups_v1[name] = path
    found: dict[str, Hierarchy] = {}
    unified: Path | None = None
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mount_root, mount_point = _unescape(fields[3]), _unescape(fields[4])
        fstype, options = tail[0], tail[2].split(",")
        if fstype == "cgroup":
            for controller in CONTROLLERS:
                if controller in options and controller in groups_v1 and controller not in found:
                    below = _inside(mount_root, groups_v1[controller])
                    if below is not None:
                        found[controller] = Hierarchy(controller, 1,
                                                      Path(mount_point + below.rstrip("/")))
        elif fstype == "cgroup2" and group_v2 is not None and unified is None:
            below = _inside(mount_root, group_v2)
            if below is not None:
                unified = Path(mount_point + below.rstrip("/"))
    if unified is not None:
        for controller in CONTROLLERS:
            if controller not in found:
                found[controller] = Hierarchy(controller, 2, unified)
    return found


def host_hierarchies() -> dict[str, Hierarchy]:
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
        self_cgroup = Path("/proc/self/cgroup").read_text()
    except OSError:
        return {}
    return find_hierarchies(mountinfo, self_cgroup)


def _write(path: Path, value: str) -> None:
    with path.open("w") as fh:
        fh.write(value)


def _v2_enable(own_dir: Path, controller: str) -> None:
    """Delegate `controller` to the children of the builder's group (v2 needs it in
    cgroup.subtree_control; the kernel refuses while the group itself holds processes)."""
    if controller not in (own_dir / "cgroup.controllers").read_text().split():
        raise OSError(errno.ENOTSUP, f"controller {controller} is not available in {own_dir}")
    enabled = (own_dir / "cgroup.subtree_control").read_text().split()
    if controller not in enabled:
        _write(own_dir / "cgroup.subtree_control", f"+{controller}")


@dataclass
class SandboxCgroup:
    """The control groups of one sandbox run: made with caps, joined by the sandbox's first
    process (through `procs_files`), emptied and removed afterwards."""

    dirs: dict[str, Path] = field(default_factory=dict)  # controller -> group folder
    versions: dict[str, int] = field(default_factory=dict)
    caps: list[SandboxCap] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, label: str, memory_bytes: int, pids: int,
               hierarchies: dict[str, Hierarchy] | None = None) -> SandboxCgroup:
        """Make the groups; a controller that cannot be used becomes a warning, not an error."""
        group = cls()
        hierarchies = host_hierarchies() if hierarchies is None else hierarchies
        name = f"mb-sandbox-{label}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        wanted = {"memory": memory_bytes, "pids": pids}
        for controller in CONTROLLERS:
            where = hierarchies.get(controller)
            if where is None:
                group.warnings.append(f"no {controller} control group on this machine: "
                                      f"{_what(controller)} is capped per process only")
                continue
            _remove_stale(where.own_dir, label)
            folder = where.own_dir / name
            try:
                if where.version == 2:
                    _v2_enable(where.own_dir, controller)
                folder.mkdir(mode=0o755, exist_ok=True)  # v2: one folder serves both controllers
                group._set_limit(controller, where.version, folder, wanted[controller])
            except OSError as exc:
                if folder.is_dir() and folder not in group.dirs.values():
                    try:
                        folder.rmdir()
                    except OSError:
                        pass
                group.warnings.append(
                    f"cannot use the {controller} control group under {where.own_dir} "
                    f"({exc.strerror or exc}): {_what(controller)} is capped per process only")
                continue
            group.dirs[controller] = folder
            group.versions[controller] = where.version
            unit = "bytes" if controller == "memory" else "count"
            group.caps.append(SandboxCap(name="memory" if controller == "memory" else "processes",
                                         limit=wanted[controller], unit=unit, scope="sandbox",
                                         via=f"cgroup v{where.version}"))
        return group

    @staticmethod
    def _set_limit(controller: str, version: int, folder: Path, value: int) -> None:
        if controller == "memory":
            if version == 1:
                _write(folder / "memory.limit_in_bytes", str(value))
                swap = folder / "memory.memsw.limit_in_bytes"
                if swap.exists():  # swap counted too, or the cap leaks into swap
                    _write(swap, str(value))
            else:
                _write(folder / "memory.max", str(value))
                swap = folder / "memory.swap.max"
                if swap.exists():
                    _write(swap, "0")
        else:
            _write(folder / "pids.max", str(value))

    @property
    def procs_files(self) -> list[Path]:
        return sorted({folder / "cgroup.procs" for folder in self.dirs.values()})

    def limits_hit(self) -> list[str]:
        """Which caps the run ran into: the memory cap killed a process, a fork was refused."""
        hit: list[str] = []
        memory, pids = self.dirs.get("memory"), self.dirs.get("pids")
        if memory is not None:
            name = "memory.oom_control" if self.versions["memory"] == 1 else "memory.events"
            if _counter(memory / name, "oom_kill") > 0:
                hit.append("memory")
        if pids is not None and _counter(pids / "pids.events", "max") > 0:
            hit.append("processes")
        return hit

    def remove(self) -> None:
        """Kill whatever is left in the groups, then remove them."""
        for folder in set(self.dirs.values()):
            for _ in range(50):
                pids = _members(folder)
                if not pids:
                    try:
                        folder.rmdir()
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        pass  # the last members are still exiting
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.02)


def _remove_stale(own_dir: Path, label: str) -> None:
    """Groups of this uid left by a builder that died before it could remove them: the caller
    holds the uid's lock, so no live sandbox uses them. Only empty ones can (and do) go."""
    for folder in own_dir.glob(f"mb-sandbox-{label}-*"):
        try:
            folder.rmdir()
        except OSError:
            pass


def _what(controller: str) -> str:
    return "memory" if controller == "memory" else "the number of processes"


def _members(folder: Path) -> list[int]:
    try:
        return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _counter(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0
