"""Starts pytest with the harness folder (this file's) importable, and nothing else."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest

raise SystemExit(pytest.main(sys.argv[1:]))
