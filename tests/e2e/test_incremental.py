"""An incremental build through the CLI: a change over a released build's output, old tests intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

MB = str(Path(sys.executable).parent / "mb")
CRM = "Build a CRM system with contacts and deals"


def mb(*args: str):
    result = subprocess.run([MB, *args], capture_output=True, env=dict(os.environ),
                            timeout=600, check=False)
    return result, result.stdout.decode() + result.stderr.decode()


def released(text: str) -> tuple[str, dict, set[str]]:
    """The build id, its manifest and the test files inside its artifact."""
    assert "0 failed, 0 errors in the sandbox (bubblewrap)" in text, text
    manifest = json.loads(Path(text.split("manifest:")[1].split()[0]).read_text())
    with zipfile.ZipFile(Path(text.split("artifact:")[1].split()[0])) as zf:
        tests = {name.rsplit("/", 1)[-1] for name in zf.namelist()
                 if "/tests/test_" in f"/{name}" and name.endswith(".py")}
    return text.split()[1], manifest, tests


def test_invoices_added_over_a_crm_build(mb_home):
    result, text = mb("build", CRM)
    assert result.returncode == 0, text
    base_id, base_manifest, base_tests = released(text)

    result, text = mb("build", "--base", base_id, "Add invoices linked to deals")
    assert result.returncode == 0, text
    new_id, manifest, tests = released(text)
    assert new_id != base_id
    assert manifest["base_build_id"] == base_id

    # Every test file of the base build is still there and the suite grew by the new entity's tests.
    assert base_tests <= tests
    assert "test_entity_invoice.py" in tests
    assert manifest["tests"]["passed"] > base_manifest["tests"]["passed"]

    # The change is a diff over the base build's output: new invoice files, no test file removed.
    show, patch = mb("show", new_id, "diff")
    assert show.returncode == 0, patch
    assert "+++ b/app/models/invoice.py" in patch
    assert "+++ b/tests/test_entity_invoice.py" in patch
    assert "deleted file mode" not in patch
    assert "+++ b/app/models/contact.py" not in patch  # untouched entities are not rewritten

    workspace = mb_home / "workspaces" / new_id
    model = (workspace / "app" / "models" / "invoice.py").read_text()
    assert 'sa.ForeignKey("deals.id"' in model
