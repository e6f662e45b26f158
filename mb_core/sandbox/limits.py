"""How much a sandbox run may use, and the per-process rlimits that back the whole-sandbox caps."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mb_core.models import SandboxCap

MB = 1024 * 1024


class SandboxLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_mb: int = Field(default=2048, gt=0)  # all processes together (cgroup)
    address_space_mb: int | None = Field(default=None, gt=0)  # each process; None: memory_mb
    cpu_s: int | None = Field(default=None, gt=0)  # CPU seconds per process; None: the run's timeout
    nproc: int = Field(default=256, gt=0)  # processes and threads of the sandbox (cgroup, own uid)
    disk_mb: int = Field(default=512, gt=0)  # everything the tests may write (a capped tmpfs)
    fsize_mb: int = Field(default=512, gt=0)  # largest file the tests may write
    nofile: int = Field(default=1024, gt=0)  # open file descriptors


DEFAULT_LIMITS = SandboxLimits()


def limit_argv(prlimit: str, timeout: str, limits: SandboxLimits, timeout_s: int) -> list[str]:
    return [
        prlimit, f"--as={(limits.address_space_mb or limits.memory_mb) * MB}", f"--cpu={limits.cpu_s or timeout_s}",
        f"--nproc={limits.nproc}", f"--fsize={limits.fsize_mb * MB}", f"--nofile={limits.nofile}",
        timeout, "-s", "KILL", str(timeout_s),
    ]


def process_caps(limits: SandboxLimits, timeout_s: int, per_uid: bool) -> list[SandboxCap]:
    """The rlimits as caps. `per_uid`: the run has a uid of its own, so --nproc counts this
    sandbox only (without a uid drop the kernel ignores it for root and it is not listed)."""
    caps = [
        SandboxCap(name="address_space", limit=(limits.address_space_mb or limits.memory_mb) * MB, unit="bytes",
                   scope="process", via="prlimit"),
        SandboxCap(name="cpu", limit=limits.cpu_s or timeout_s, unit="seconds", scope="process",
                   via="prlimit"),
        SandboxCap(name="file_size", limit=limits.fsize_mb * MB, unit="bytes", scope="process",
                   via="prlimit"),
        SandboxCap(name="open_files", limit=limits.nofile, unit="count", scope="process",
                   via="prlimit"),
        SandboxCap(name="wall_time", limit=timeout_s, unit="seconds", scope="sandbox",
                   via="timeout"),
    ]
    if per_uid:
        caps.append(SandboxCap(name="processes", limit=limits.nproc, unit="count", scope="uid",
                               via="prlimit"))
    return caps
