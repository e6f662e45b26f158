"""Probe: personal data sent to the API never appears in clear in the application's output
(its logs, what it prints) or in its audit log."""

import json
from pathlib import Path

import pytest

CASES = json.loads((Path(__file__).resolve().parent / "cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("entity,path,fields", CASES)
def test_personal_data_stays_out_of_logs_and_audit(served_app, client, auth, entity, path, fields):
    payload = served_app.info["payloads"][entity]
    values = {f: str(payload[f]) for f in fields if payload.get(f) not in (None, "")}
    assert values, f"the sample {entity} holds none of its personal data fields {fields}"
    created = client.post(path, json=payload, headers=auth())
    assert created.status_code == 201, created.text
    row_id = created.json()["id"]
    audit = client.get("/audit", params={"entity": entity}, headers=auth())
    assert audit.status_code == 200, f"the audit log cannot be read: {audit.status_code}"
    entries = [e for e in audit.json()["items"] if e.get("entity_id") == row_id]
    assert entries, f"creating a {entity} wrote no audit entry"
    output = served_app.log_text()
    for field, value in values.items():
        assert value not in output, f"{entity}.{field} appears in clear in the application's logs"
        assert value not in str(entries), f"{entity}.{field} appears in clear in the audit log"
