"""Relations read from the words between two records that the main grammar leaves: a plain verb
with a preposition before one record, a reduced relative clause, a shared one, a phrasal verb
with a count and a sentence opening with a pronoun for the last sentence's record. Phrasings
written for this test."""

import pytest

from mb_core.models import RequirementKind
from mb_core.spec import read_spec
from tests.core.requirements.relation_reading import MANY, ONE, read_relations


@pytest.mark.parametrize("text,parent,child", [
    # a plain verb and a preposition before one record: the record after it is the owner
    ("Keep harbours and boats. Boats sail from a harbour.", "harbour", "boat"),
    ("Keep shelves and jars. Jars stand on a shelf.", "shelf", "jar"),
    ("Track regions and branches. Each branch operates within one region.", "region", "branch"),
    # a reduced relative clause: the participle ties the first record to the second
    ("Track tenants and the repairs done on each tenancy. Keep tenancies.", "tenancy", "repair"),
    ("Keep hearings and rulings, issued after a hearing.", "hearing", "ruling"),
    # many of the first share one of the second
    ("Keep riders and horses. Several riders can exercise a horse.", "horse", "rider"),
    # a pronoun opening a sentence stands for the last sentence's record
    ("Keep a register of every boat. It is moored at a marina. Marinas have a name.",
     "marina", "boat"),
    # a person kept as a record, then "she" or "he"
    ("Keep salons and stylists. Every stylist works at a salon. She also keeps client cards.",
     "stylist", "client_card"),
])
def test_one_to_many_from_the_words_between(text, parent, child):
    assert (parent, child, ONE) in read_relations(text)


def test_phrasal_verb_with_a_count_pairs_into_many_to_many():
    text = ("Keep tutors and pupils. Each pupil has one or more tutors, and a tutor may look "
            "after several pupils.")
    found = read_relations(text)
    assert any({o, c} == {"tutor", "pupil"} and k == MANY for o, c, k in found)


def test_sharing_needs_a_counted_subject():
    # "the rider can exercise a horse": one rider, nothing says a horse is shared
    found = read_relations("Keep riders and horses. The rider can exercise a horse.")
    assert ("horse", "rider", ONE) not in found


def test_an_active_verb_with_its_own_object_is_not_a_reduced_relative():
    # "builders paint the houses": a plain object, no participle and preposition
    found = read_relations("Keep builders and houses. Houses are painted. Builders paint many houses.")
    assert ("house", "builder", ONE) not in found


def test_a_field_named_as_another_record_is_a_reference():
    found = read_relations("Keep clubs and riders. Each rider has a name, a licence and a club.")
    assert ("club", "rider", ONE) in found


def test_an_irregular_participle_after_a_comma_ties_the_records():
    found = read_relations("Keep hearings and verdicts. Keep verdicts, given after a hearing.")
    assert ("hearing", "verdict", ONE) in found


def test_a_prepositional_phrase_after_a_passive_ties_the_subject_again():
    found = read_relations("Keep residents, repairs and houses. A repair is reported by a resident "
                           "about a house.")
    assert ("house", "repair", ONE) in found and ("resident", "repair", ONE) in found


@pytest.mark.parametrize("text,parent,child", [
    # the record says which other row it is about
    ("Keep kennels and dogs. Every dog records which kennel it sleeps in.", "kennel", "dog"),
    ("Keep suppliers and quotes. Each quote notes which supplier it came from.", "supplier", "quote"),
    # a preposition of association before one other record
    ("Keep memos and clients. A memo regarding a client is kept for a year.", "client", "memo"),
    ("Keep grievances and employers. A grievance against an employer has a date.",
     "employer", "grievance"),
    # "and belongs to", the subject's again after another link
    ("Keep crews, rotas and depots. A rota is drawn up by one crew and belongs to a depot.",
     "depot", "rota"),
])
def test_one_to_many_from_more_wordings(text, parent, child):
    assert (parent, child, ONE) in read_relations(text)


@pytest.mark.parametrize("text,pair", [
    # the verb of the first half left out of the second
    (("Keep authors and anthologies. An author can be linked to several anthologies and an "
     "anthology to several authors."), {"author", "anthology"}),
    # "contains the Xs it uses" one way, "used in many" the other
    (("Keep kits and tools. A kit contains the tools it needs, and a tool can be packed in many "
     "kits."), {"kit", "tool"}),
])
def test_many_to_many_from_more_wordings(text, pair):
    spec = read_spec(text)
    assert any({r.owner, r.other} == pair and r.cardinality == MANY for r in spec.requirements
               if r.kind == RequirementKind.relation)


def test_belongs_after_and_is_a_verb_not_a_record():
    names = {e.name for e in read_spec(
        "Keep mentors and cohorts. A cohort is led by one mentor and belongs to a programme.").entities}
    assert "belong" not in names and "programme" in names


@pytest.mark.parametrize("text,parent,child", [
    # a whole made of its parts: the whole owns them, whatever the passive says
    ("Keep courses and lessons. A course is divided into lessons.", "course", "lesson"),
    ("Keep orders and lines. An order consists of several lines.", "order", "line"),
    # a particle after the participle of a passive
    ("Keep flats and lodgers. Each flat is rented out to a lodger.", "lodger", "flat"),
])
def test_wholes_and_particle_passives(text, parent, child):
    assert (parent, child, ONE) in read_relations(text)


def test_one_on_several_pairs_with_many_the_other_way():
    text = "Keep routes and stops. Each route serves many stops, and a stop can be on several routes."
    assert ("route", "stop", MANY) in read_relations(text) or (
        "stop", "route", MANY) in read_relations(text)
