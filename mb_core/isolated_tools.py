"""Running the builder's own tools (bandit, ruff, ...) over generated code or a target repository.

Those trees are untrusted: a `bandit.py`, `sitecustomize.py` or `.pth` file in them must never be
imported by the builder's interpreter, and nothing the builder's environment holds (provider keys,
database URLs, MB_HOME) may reach a tool that reads them. So every such tool runs

- as `python -I -B -m TOOL`: isolated mode puts neither the working directory nor the script's
  folder on `sys.path`, ignores every PYTHON* variable and the user's site-packages;
- from an empty scratch working directory outside the tree (the tree is only ever an argument);
- with a cleared environment: a fixed PATH, a scratch HOME, a C.UTF-8 locale and nothing else.

These tools read code, they never run it; code that runs goes through `mb_core.sandbox`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

SAFE_PATH = "/usr/bin:/bin"


def python_tool_argv(module: str, *args: str) -> list[str]:
    """`python -I -B -m module args...` with the builder's own interpreter."""
    return [sys.executable, "-I", "-B", "-m", module, *args]


def tool_env(home: Path) -> dict[str, str]:
    """The whole environment a tool gets: nothing of the builder's."""
    return {"PATH": SAFE_PATH, "HOME": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


def run_tool(argv: Sequence[str], *, timeout_s: float, files: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[bytes]:
    """Run `argv` from a fresh empty folder with `tool_env`; `files` (name -> text) are written
    into that folder first (a tool's own config, so it never reads one from the tree).

    Raises OSError or subprocess.TimeoutExpired like subprocess.run.
    """
    with tempfile.TemporaryDirectory(prefix="mb-tool-") as scratch:
        work = Path(scratch) / "work"
        home = Path(scratch) / "home"
        work.mkdir()
        home.mkdir()
        for name, text in (files or {}).items():
            (work / name).write_text(text, encoding="utf-8")
        return subprocess.run(list(argv), cwd=work, env=tool_env(home), capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=timeout_s, check=False)
