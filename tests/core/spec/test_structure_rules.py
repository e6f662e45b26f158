"""Entities from English structure, not from word lists: clause verbs found by subject agreement,
words that usually name the app or an abstraction kept when the text counts them, the objects
of what a subject does, values listed after a colon. Phrasings written for this test."""

import pytest

from mb_core.models import FieldType
from mb_core.spec import read_spec
from mb_core.spec.naming import singular
from mb_core.spec.phrases import noun_phrases


def names(text):
    return {e.name for e in read_spec(text).entities}


def field(spec, entity, name):
    e = next(e for e in spec.entities if e.name == entity)
    return next((f for f in e.fields if f.name == name), None)


@pytest.mark.parametrize("text,subject,verb,obj", [
    # a plural subject takes the bare stem, even of a verb no table lists
    ("Beekeepers harvest jars.", "Beekeepers", "harvest", "jars"),
    ("Collectors swap stamps.", "Collectors", "swap", "stamps"),
    # a singular subject with its determiner takes the -s form before its object
    ("A curator borrows several paintings.", "curator", "borrow", "several paintings"),
    ("Each pallet belongs to a depot.", "pallet", "belong", "depot"),
])
def test_the_clause_verb_is_found_by_agreement(text, subject, verb, obj):
    phrases = noun_phrases(text)
    assert [p.text for p in phrases] == [subject, obj]
    assert verb in phrases[0].subject_of and verb in phrases[1].verbs


@pytest.mark.parametrize("text", [
    "Track parcels whose status goes from packed to shipped.",  # an order, not a subject
    "Sales tax rates apply to invoices.",
])
def test_no_verb_is_invented_without_agreement(text):
    heads = [p.words[-1] for p in noun_phrases(text)]
    assert "parcels" in heads or "rates" in heads


def test_a_participle_after_be_is_no_noun():
    phrases = noun_phrases("A badge is held by a volunteer.")
    assert [p.text for p in phrases] == ["badge", "volunteer"]


@pytest.mark.parametrize("text,record", [
    ("Each case has a reference and a due date.", "case"),  # "case" is usually abstract
    ("Every tool belongs to a workshop.", "tool"),  # "tool" usually names the app
])
def test_a_word_the_text_counts_one_by_one_is_a_record(text, record):
    assert record in names(text)


def test_an_abstract_word_alone_stays_dropped():
    assert "case" not in names("Keep invoices; in any case keep them for ten years.")


@pytest.mark.parametrize("text,record", [
    ("Hikers log trails.", "trail"),
    ("Neighbours swap plants. Each plant has a species.", "plant"),
    ("Tenants report leaks.", "leak"),
])
def test_the_plural_object_of_what_a_subject_does_is_a_record(text, record):
    assert record in names(text)


@pytest.mark.parametrize("text,entity,fname,values", [
    ("Keep rooms. Each room has a floor: ground, middle or top.", "room", "floor",
     ["ground", "middle", "top"]),
    ("Track loans; each loan has a channel: branch, online or phone.", "loan", "channel",
     ["branch", "online", "phone"]),
])
def test_values_after_a_colon_are_choices_not_fields_or_records(text, entity, fname, values):
    spec = read_spec(text)
    f = field(spec, entity, fname)
    assert f is not None and f.type == FieldType.enum and f.choices == values
    assert not {v for v in values} & {e.name for e in spec.entities}
    e = next(e for e in spec.entities if e.name == entity)
    assert not {v for v in values} & {x.name for x in e.fields}


def test_a_field_name_past_the_generator_limit_is_shortened_or_reported_never_a_crash():
    text = ("Keep policies. Each policy has an extraordinarilycomprehensivesupplementary "
            "coverageclassificationcategory: basic, plus or premium. The "
            "internationalstandardisedidentificationreferencenumber must be unique.")
    spec = read_spec(text)
    for e in spec.entities:
        assert all(len(f.name) <= 40 for f in e.fields), [f.name for f in e.fields]
    long_reqs = [r for r in spec.requirements if r.field and len(r.field) > 40]
    from mb_core.agents import product_architect, system_designer
    from mb_core.agents.base import AgentContext, run_agent
    from mb_core.agents.io import ArchitectInput, DesignerInput
    from mb_core.providers.offline import OfflineProvider
    from mb_core.requirements.trace import trace_requirements

    ctx = AgentContext(provider=OfflineProvider())
    built = run_agent(product_architect.DEFINITION, ArchitectInput(text=text), ctx)
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=built), ctx)
    traces = {t.requirement: t for t in trace_requirements(plan, None)}
    for r in long_reqs:  # a name too long to build is reported with its reason
        assert r.id in traces and traces[r.id].reason


@pytest.mark.parametrize("text,owner,child", [
    # a word that is usually a field is a record when it has many of something
    ("Keep composers and scores. A composer has many scores.", "composer", "score"),
    ("List publishers and magazines. Each publisher has several magazines.", "publisher",
     "magazine"),
])
def test_a_subject_that_has_many_is_a_record_and_its_many_are_rows(text, owner, child):
    spec = read_spec(text)
    assert {owner, child} <= {e.name for e in spec.entities}
    assert (owner, child) in {(r.parent, r.child) for r in spec.relations}


def test_a_modal_verb_no_table_lists_is_still_a_verb():
    phrases = noun_phrases("A label can belong to many parcels.")
    assert [p.text for p in phrases] == ["label", "many parcels"]
    assert "belong" in phrases[1].verbs


def test_values_in_parentheses_after_a_field_word_are_no_kinds():
    spec = read_spec("Track repairs. Each repair has a priority (routine, pressing, critical).")
    repair = next(e for e in spec.entities if e.name == "repair")
    assert "kind" not in {f.name for f in repair.fields}


@pytest.mark.parametrize("text", [
    "Track jobs. Each job has a status that is one of queued, running or finished.",
    "Track jobs; a job status which can be queued, running or finished.",
])
def test_states_listed_after_that_is_one_of_are_the_states_themselves(text):
    spec = read_spec(text)
    job = next(e for e in spec.entities if e.name == "job")
    status = next(f for f in job.fields if f.name == "status")
    assert status.choices == ["queued", "running", "finished"]
    flows = [f for f in spec.features if f.entity == "job" and f.options.get("states")]
    assert all(f.options["states"] == status.choices for f in flows)


@pytest.mark.parametrize("text,counted", [
    # a word that is also a verb's -s form is a noun right after a count
    ("Keep soil plots. Each plot has several analyses, and every analysis has a ph level.",
     "analysis"),
    ("Keep tickets. Each ticket has many updates, and every update has a note.", "update"),
])
def test_a_word_after_a_count_is_a_noun_and_a_record(text, counted):
    assert counted in names(text)
    assert counted in {singular(p.words[-1]) for p in noun_phrases(text)
                       if p.all_words[0] in {"several", "many"}}
