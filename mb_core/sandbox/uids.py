"""One uid per running sandbox, from a range no one on the host uses.

Per-uid limits (`prlimit --nproc`) and "may signal" checks count every process of a uid on the
machine: sandboxes sharing "nobody" starve and can signal each other. Each run takes a free uid
from the range under an exclusive lock on that uid's lock file; the kernel drops the lock when
the holder exits, however it exits, so a crashed builder never leaks a uid.
"""

from __future__ import annotations

import fcntl
import os
import random
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mb_core.errors import SandboxError

# High enough to miss system, user and usual subordinate (container) ranges; below 2**31 for tools
# that keep uids signed. Nothing on the host is owned by these uids: every write of a sandbox goes
# to a tmpfs that dies with it.
SANDBOX_UID_BASE = 1_600_000_000
SANDBOX_UID_COUNT = 512
SANDBOX_UIDS = range(SANDBOX_UID_BASE, SANDBOX_UID_BASE + SANDBOX_UID_COUNT)


def default_lock_dir() -> Path:
    return Path(tempfile.gettempdir()) / "mb-sandbox-uids"


def _checked_lock_dir(lock_dir: Path) -> Path:
    lock_dir.mkdir(mode=0o755, exist_ok=True)
    info = os.lstat(lock_dir)
    # Someone else's folder (or one others may write) could hand out a uid that is in use.
    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid()
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        raise SandboxError(f"sandbox: uid lock folder {lock_dir} is not a private folder of uid "
                           f"{os.geteuid()}; remove it")
    return lock_dir


@contextmanager
def allocate_uid(lock_dir: Path | None = None, uids: range = SANDBOX_UIDS) -> Iterator[int]:
    """Hold a uid of `uids` no other sandbox on this machine holds, for the `with` block."""
    folder = _checked_lock_dir(lock_dir or default_lock_dir())
    start = random.randrange(len(uids))  # spread concurrent builders over the range
    for step in range(len(uids)):
        uid = uids[(start + step) % len(uids)]
        fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield uid
        finally:
            os.close(fd)  # closing drops the lock
        return
    raise SandboxError(f"sandbox: all {len(uids)} sandbox uids are in use; too many concurrent runs")
