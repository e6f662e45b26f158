"""The sandbox's pure parts: control group discovery, uid allocation, what it hides."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mb_core.errors import SandboxError
from mb_core.sandbox import hidden_dirs
from mb_core.sandbox.cgroups import find_hierarchies
from mb_core.sandbox.uids import allocate_uid
from mb_core.settings import Settings

V1_MOUNTS = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V1_SELF = "8:pids:/\n4:memory:/jobs/worker-1\n0::/\n"

V2_MOUNTS = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
30 27 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate
"""


def test_v1_controllers_are_found_under_the_builders_own_group():
    found = find_hierarchies(V1_MOUNTS, V1_SELF)
    assert (found["memory"].version, found["memory"].own_dir) == (
        1, Path("/sys/fs/cgroup/memory/jobs/worker-1"))
    assert (found["pids"].version, found["pids"].own_dir) == (1, Path("/sys/fs/cgroup/pids"))


def test_v2_unified_tree_serves_both_controllers():
    found = find_hierarchies(V2_MOUNTS, "0::/user.slice/builder.service\n")
    assert {c: (h.version, h.own_dir) for c, h in found.items()} == {
        "memory": (2, Path("/sys/fs/cgroup/user.slice/builder.service")),
        "pids": (2, Path("/sys/fs/cgroup/user.slice/builder.service")),
    }


def test_a_mount_of_another_part_of_the_tree_is_not_used():
    mounts = "35 31 0:32 /other /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    assert find_hierarchies(mounts, "4:memory:/jobs/worker-1\n") == {}


def test_no_cgroups_at_all():
    assert find_hierarchies("27 1 254:0 / / rw - ext4 /dev/vda rw\n", "") == {}


def test_concurrent_sandboxes_get_different_uids(tmp_path):
    held: list[int] = []
    gate = threading.Barrier(4)

    def take() -> None:
        with allocate_uid(tmp_path / "locks", range(5000, 5004)) as uid:
            held.append(uid)
            gate.wait(timeout=10)  # all four hold theirs at once

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(held) == [5000, 5001, 5002, 5003]


def test_a_full_uid_range_refuses(tmp_path):
    with allocate_uid(tmp_path / "locks", range(7000, 7001)), \
            pytest.raises(SandboxError, match="all 1 sandbox uids are in use"), \
            allocate_uid(tmp_path / "locks", range(7000, 7001)):
        pass
    with allocate_uid(tmp_path / "locks", range(7000, 7001)) as uid:  # released on exit
        assert uid == 7000


def test_a_lock_folder_others_may_write_is_refused(tmp_path):
    folder = tmp_path / "locks"
    folder.mkdir()
    os.chmod(folder, 0o777)
    with pytest.raises(SandboxError, match="not a private folder"), \
            allocate_uid(folder, range(7000, 7001)):
        pass


def test_private_paths_are_hidden_wherever_they_live(tmp_path):
    outside = Path("/var/lib") / "mb-parts-probe"
    (outside / "repo").mkdir(parents=True, exist_ok=True)
    try:
        hidden, refused = hidden_dirs(tmp_path / "tree", [outside / "repo", Path("/usr/lib")],
                                      home=tmp_path / "home-missing")
    finally:
        (outside / "repo").rmdir()
        outside.rmdir()
    assert outside / "repo" in hidden and Path("/run") in hidden
    # Covering the system's code would break the sandbox: such a private path is refused.
    assert Path("/usr/lib") not in hidden
    assert refused == ["/usr/lib (a system folder or one that holds them)"]
    _, refused = hidden_dirs(tmp_path / "tree", [Path("/")])
    assert refused == ["/ (a system folder or one that holds them)"]


def test_settings_name_every_private_folder(tmp_path):
    settings = Settings.from_env({"MB_HOME": str(tmp_path / "home"),
                                  "DAGSTER_HOME": str(tmp_path / "dagster"),
                                  "MB_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'store.db'}"})
    assert settings.private_paths() == [tmp_path / "home", tmp_path / "dagster", tmp_path / "db"]
    remote = Settings.from_env({"MB_HOME": str(tmp_path / "home"),
                                "MB_DATABASE_URL": "postgresql+psycopg2://u@127.0.0.1/mb"})
    assert remote.private_paths() == [tmp_path / "home", tmp_path / "home" / "dagster"]


def test_an_interpreter_under_tmp_is_bound_back_with_folders_the_sandbox_uid_can_pass(monkeypatch):
    from mb_core.sandbox import commands

    venv = Path("/tmp/checkout/main/.venv")
    monkeypatch.setattr(commands, "interpreter_roots", lambda: [Path("/usr"), venv])
    tools = commands.Tools.find("/usr/bin:/bin")
    argv = commands.bwrap_argv(tools, Path("/tmp/src"), [], 1024, True)
    bound = argv.index(str(venv))
    made = [argv[i + 1] for i in range(bound) if argv[i] == "--dir"]
    assert "/tmp/checkout" in made and "/tmp/checkout/main" in made
    for folder in ("/tmp/checkout", "/tmp/checkout/main"):
        i = argv.index(folder)
        assert argv[i - 3:i] == ["--perms", "0755", "--dir"], argv[i - 3:i]
