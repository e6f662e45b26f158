"""People who file records are records linked to them, and a compound noun names one record in
every sentence that says it ("an overtime request" ... "approve overtime requests"). Phrasings
written for this test."""

import pytest

from mb_core.requirements.trace import requirement_keys
from mb_core.spec import read_spec


def keys(text):
    spec = read_spec(text)
    return spec, {k for r in spec.requirements for k in requirement_keys(r)}


@pytest.mark.parametrize("text,wanted", [
    # a verb after an article is the noun's modifier: the record keeps its whole name
    ("Workers request overtime. An overtime request has a date and a number of hours.",
     {"entity:overtime_request", "field:overtime_request.date", "entity:worker",
      "relation:worker->overtime_request"}),
    # the same compound said again after two verbs is the same record, with their workflow
    (("Tenants log repair requests. A repair request has a description and a date. Caretakers "
      "approve or decline repair requests."),
     {"entity:repair_request", "workflow:approve_reject:repair_request"}),
])
def test_compound_named_once(text, wanted):
    spec, found = keys(text)
    assert wanted <= found, wanted - found
    names = {e.name for e in spec.entities}
    assert "request" not in names  # never a second record for the head alone


def test_people_given_access_are_a_role_not_a_record():
    spec, found = keys("Nurses keep care notes. A care note has a date and a text. Ward clerks "
                       "have read-only access to care notes.")
    names = {e.name for e in spec.entities}
    assert "ward_clerk" not in names
    assert "role:ward_clerk:care_note=read" in found


def test_filing_party_is_linked_record():
    _, found = keys("Drivers log trips. Each trip has a distance and a date.")
    assert {"entity:driver", "relation:driver->trip"} <= found
