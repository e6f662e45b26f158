"""A guided build with relations, value lists, rules and roles: the released application holds
each rule and the tests that exercise it, and they pass in the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

MB = str(Path(sys.executable).parent / "mb")

WORKSHOP = """
title: Tool library
entities:
  borrower:
    name: {type: string, required: true}
    card_number: {type: string, unique: true, required: true, max_length: 20}
  tool:
    label: {type: string, required: true}
    condition: {type: enum, choices: [fine, worn, broken], required: true}
  loan:
    lent_on: {type: date, required: true}
    due_on: {type: date, required: true}
    returned: {type: boolean, default: "false"}
    state: {type: enum, choices: [requested, approved, refused]}
relations:
  - borrower has many loans
  - tool has many loans
roles:
  admin: "*"
  clerk: {borrower: [read], tool: [read], loan: [create, read, update]}
features:
  - {kind: date_order, entity: loan, options: {start: lent_on, end: due_on}}
  - {kind: due_overdue, entity: loan, options: {due: due_on, done_field: returned}}
  - {kind: capacity, entity: loan, options: {parent: borrower, limit: 2}}
  - kind: status_workflow
    entity: loan
    options:
      field: state
      states: [requested, approved, refused]
      actions:
        approve: {from: [requested], to: approved, roles: [clerk]}
        refuse: {from: [requested], to: refused}
"""


def test_guided_build_implements_the_rules(mb_home, tmp_path):
    spec = tmp_path / "workshop.yaml"
    spec.write_text(WORKSHOP, encoding="utf-8")
    result = subprocess.run([MB, "build", "--guided", "-f", str(spec)], capture_output=True, check=False,
                            env=dict(os.environ), timeout=600)
    text = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, text
    manifest = json.loads(Path(text.split("manifest:")[1].split()[0]).read_text())
    assert manifest["tests"]["failed"] == 0 and manifest["tests"]["passed"] > 40
    with zipfile.ZipFile(Path(text.split("artifact:")[1].split()[0])) as zf:
        names = set(zf.namelist())
        borrower_router = zf.read("app/routers/borrower.py").decode()
        permissions = zf.read("app/permissions.py").decode()
    for path in ("tests/test_relations.py", "tests/test_roles.py", "tests/test_feature_capacity_loan.py",
                 "tests/test_feature_date_order_loan.py", "tests/test_feature_due_overdue_loan.py",
                 "tests/test_feature_status_workflow_loan.py"):
        assert path in names, path
    assert '@router.get("/{item_id}/loans"' in borrower_router
    assert '"loan": frozenset({"create", "read", "update", "approve", "refuse"})' in permissions
