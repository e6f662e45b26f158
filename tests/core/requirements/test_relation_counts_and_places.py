"""Relations said with no verb of their own or by a clause about the record: a count "per" the
other record, "one X to many Ys", a place word ("under", "within"), a verb that groups ("sorts
... into"), "with their", "records the X it came from", "can exist without", and the verbs of
joining something shared (many-to-many). Phrasings written for this test."""

import pytest

from mb_core.models import RequirementKind
from mb_core.spec import read_spec
from tests.core.requirements.relation_reading import MANY, ONE, relations


@pytest.mark.parametrize("text,parent,child", [
    # a count per the other record
    ("Keep stadiums and gates, with several gates per stadium.", "stadium", "gate"),
    ("A school keeps classrooms and desks. Many desks per classroom.", "classroom", "desk"),
    # one to many, said without a verb
    ("Vineyards and barrels: one vineyard to many barrels.", "vineyard", "barrel"),
    # a place word before the other record
    ("Keep folders and the notes under a folder.", "folder", "note"),
    ("Keep estates and the cottages within each estate.", "estate", "cottage"),
    ("Keep ranches and horses. The horses on each ranch are counted.", "ranch", "horse"),
    # more than one is many
    ("Keep clients and phones. A client may have more than one phone.", "client", "phone"),
    # a verb that puts the first into the second
    ("Keep fossils and drawers. A curator sorts fossils into drawers.", "drawer", "fossil"),
    # "with their"
    ("Keep quizzes with their questions. A question has a text.", "quiz", "question"),
    # a clause about the record names the row it is tied to
    ("Keep hives and jars. Each jar records the hive it came from.", "hive", "jar"),
    ("Keep authors and quotes. A quote names the author who said it.", "author", "quote"),
    # an optional tie is still a tie
    ("Keep households and pets. A pet can exist without a household.", "household", "pet"),
])
def test_one_to_many_said_by_counts_places_and_clauses(text, parent, child):
    found, built = relations(text)
    assert (parent, child, ONE) in found, found
    assert (parent, child, ONE) in built, built


@pytest.mark.parametrize("text,pair", [
    ("Keep volunteers and charities. A volunteer can join several charities.",
     {"volunteer", "charity"}),
    ("Keep recipes and cuisines. A recipe may be tagged with several cuisines.",
     {"recipe", "cuisine"}),
    ("Keep pupils and workshops. A pupil attends many workshops.", {"pupil", "workshop"}),
    ("Keep choirs and singers. Singers can belong to several choirs.", {"singer", "choir"}),
    ("Keep runners and races. A runner can take part in many races.", {"runner", "race"}),
    ("Keep trainees and seminars. Trainees sign up for several seminars.",
     {"trainee", "seminar"}),
])
def test_joining_many_of_a_shared_record_is_many_to_many(text, pair):
    found, built = relations(text)
    assert any({a, b} == pair and k == MANY for a, b, k in found), found
    assert any({a, b} == pair and k == MANY for a, b, k in built), built


def test_own_is_a_verb_before_its_object():
    found, _ = relations("Keep beekeepers and hives. Beekeepers own hives.")
    assert ("beekeeper", "hive", ONE) in found, found


def test_owning_many_is_still_one_to_many():
    found, _ = relations("Keep farmers and tractors. A farmer can own several tractors.")
    assert ("farmer", "tractor", ONE) in found, found


@pytest.mark.parametrize("text,record", [
    ("Keep staff members. A staff member is mentored by a coach who is also a staff member.",
     "staff_member"),
    ("Keep folders. A folder may sit inside another folder.", "folder"),
    ("Keep territories. A territory can lie within a parent territory.", "territory"),
])
def test_a_record_tied_to_its_own_kind_is_built(text, record):
    found, built = relations(text)
    assert (record, record, ONE) in found, found
    assert (record, record, ONE) in built, built
    assert not [r for r in read_spec(text).requirements if r.kind == RequirementKind.not_understood]


def test_a_parent_of_the_same_kind_is_no_record_of_its_own():
    spec = read_spec("Keep territories. A territory can lie within a parent territory.")
    assert [e.name for e in spec.entities] == ["territory"]
