"""Golden tasks: the shipped suite loads, bad files are named with their field, comparison is exact."""

from __future__ import annotations

import pytest

from mb_core.golden import (
    GoldenObservation,
    InvalidGoldenTask,
    compare,
    golden_dir,
    load_golden_task,
    load_golden_tasks,
    outcome_of,
)


def test_the_shipped_suite_loads_and_spans_domains_and_adversarial_cases():
    tasks = load_golden_tasks(golden_dir())
    assert len(tasks) >= 30
    domains = {t.domain for t in tasks}
    assert {"crm", "helpdesk", "inventory", "booking", "clinic", "school", "library", "fleet", "events",
            "hr", "invoicing", "projects", "recipes", "fitness", "real_estate", "adversarial"} <= domains
    expects = {t.expect for t in tasks}
    assert expects == {"built", "refused", "contained"}
    enormous = next(t for t in tasks if t.repeat is not None)
    assert len(enormous.text.encode()) > 512 * 1024  # made at load time, not stored
    assert (golden_dir() / f"{enormous.name}.yaml").stat().st_size < 2048


def write(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("body,message", [
    ("domain: crm\n", "field (task): Value error? give exactly one of spec or repeat"),
    ("spec: Build a CRM\n", "field domain: Field required"),
    ("domain: x\nspec: a\nexpect: maybe\n", "field expect: Input should be 'built', 'refused' or 'contained'"),
    ("domain: x\nspec: a\nexpect: refused\n", "a task expected to be refused needs a reason pattern"),
    ("domain: x\nspec: a\nendpoints: [contacts]\n", "field endpoints: 'contacts' is not 'METHOD /path'"),
    ("domain: x\nspec: a\ntests: {unit: 1}\n", "field tests: unknown test category 'unit'"),
    ("domain: x\nspec: a\nrepeat: {text: b, times: 2}\n", "give exactly one of spec or repeat"),
    ("domain: x\nspec: a\nreason: '('\n", "field reason: not a valid regular expression"),
    ("domain: x\nspec: a\ncolour: red\n", "field colour: Extra inputs are not permitted"),
    ("- a\n- b\n", "must be a mapping of fields"),
    ("spec: [unclosed\n", "not valid YAML"),
])
def test_invalid_files_are_named_with_the_field(tmp_path, body, message):
    path = write(tmp_path, "bad_task", body)
    with pytest.raises(InvalidGoldenTask) as info:
        load_golden_task(path)
    text = str(info.value)
    assert text.startswith("golden task bad_task.yaml: ")
    assert "\n" not in text
    for part in message.split("?"):
        assert part.strip().replace("Value error", "") in text


def test_folder_loading_names_duplicates_and_unknown_names(tmp_path):
    write(tmp_path, "one", "name: same\ndomain: x\nspec: a\n")
    write(tmp_path, "two", "name: same\ndomain: x\nspec: b\n")
    with pytest.raises(InvalidGoldenTask, match="two.yaml: field name: 'same' is used twice"):
        load_golden_tasks(tmp_path)
    (tmp_path / "two.yaml").unlink()
    assert [t.name for t in load_golden_tasks(tmp_path, only=["same"])] == ["same"]
    with pytest.raises(InvalidGoldenTask, match="no golden task named nope"):
        load_golden_tasks(tmp_path, only=["nope"])
    with pytest.raises(InvalidGoldenTask, match="does not exist"):
        load_golden_tasks(tmp_path / "missing")


CRM = load_golden_tasks(golden_dir(), only=["crm_contacts_deals"])[0]
GOOD = GoldenObservation(
    build_id="b1", status="released", entities=["contact", "deal"],
    endpoints=[e for p in ("contacts", "deals") for e in (f"GET /{p}", f"POST /{p}", f"PATCH /{p}/{{id}}",
                                                            f"DELETE /{p}/{{id}}")],
    roles=["admin", "member"], features=["status_workflow:deal"], risk_flags=["pii", "money"],
    tests_passed=40, test_categories={"crud": 9, "validation": 5, "rbac": 4, "tenant": 3, "migrations": 2,
                                      "security": 7}, evaluation_passed=True, iterations=1, confidence=90,
    requirements={"entity:contact": "met", "entity:deal": "met", "relation:contact->deal": "met"},
)


def test_a_matching_build_passes():
    result = compare(CRM, GOOD)
    assert result.ok and result.outcome == "built" and result.mismatches == []


def test_every_difference_is_reported():
    bad = GOOD.model_copy(update={
        "entities": ["contact"], "features": [], "risk_flags": [], "confidence": 40,
        "test_categories": {**GOOD.test_categories, "tenant": 0}, "checks_failed": ["tenant_isolation"],
        "iterations": 2, "cost_usd": 0.75,
        "requirements": {"entity:contact": "met", "relation:contact->deal": "not_implemented"},
    })
    result = compare(CRM, bad)
    assert not result.ok
    assert result.mismatches == [
        "missing entity deal", "missing feature status_workflow:deal", "missing risk flag pii",
        "tenant tests: 0, expected at least 1", "quality gate tenant_isolation failed",
        "requirement entity:deal not met (not extracted)",
        "requirement relation:contact->deal not met (not_implemented)",
        "2 iterations, more than 1", "cost $0.7500, more than $0.5000", "confidence 40, below 55",
    ]


def test_traced_requirements_need_only_be_extracted():
    task = CRM.model_copy(update={"requirements": [], "requirements_traced": ["report:deal"]})
    assert compare(task, GOOD).mismatches == ["requirement report:deal not extracted"]
    reported = GOOD.model_copy(update={"requirements": {**GOOD.requirements,
                                                        "report:deal": "not_implemented"}})
    assert compare(task, reported).ok


def test_a_failed_build_is_not_a_build_and_refusals_match_their_reason():
    failed = GOOD.model_copy(update={"status": "failed", "error": "evaluation failed: 2 tests failed",
                                     "evaluation_passed": False})
    assert outcome_of(failed) == "failed"
    assert "expected a build, but it failed: evaluation failed" in compare(CRM, failed).mismatches[0]
    smalltalk = load_golden_tasks(golden_dir(), only=["nothing_buildable_smalltalk"])[0]
    refused = GoldenObservation(build_id="b2", status="failed",
                                error="spec refused: Nothing buildable found in 'hello'")
    assert compare(smalltalk, refused).ok
    other = refused.model_copy(update={"error": "spec refused: the budget is spent"})
    assert "does not match /nothing buildable/" in compare(smalltalk, other).mismatches[0]
    crashed = refused.model_copy(update={"error": "'work_order'"})  # a crash is not a refusal
    assert outcome_of(crashed) == "failed"
    assert compare(smalltalk, crashed).mismatches == [
        "expected a refusal matching /nothing buildable/, but the build failed ('work_order')"]
    assert compare(smalltalk, GOOD).mismatches == [
        "expected a refusal matching /nothing buildable/, but the build built"]


def test_contained_tasks_fail_when_forbidden_text_reaches_the_diff():
    task = load_golden_tasks(golden_dir(), only=["embed_credentials"])[0]
    built = GOOD.model_copy(update={"entities": ["customer", "invoice"], "risk_flags": ["prompt_injection"],
                                    "patch": "+KEY = 'x'\n"})
    assert compare(task, built).ok
    leaked = built.model_copy(update={"patch": "+AWS = 'AKIAIOSFODNN7EXAMPLE'\n"})
    assert compare(task, leaked).mismatches == ["forbidden text reached the diff: 'AKIAIOSFODNN7EXAMPLE'"]
    refused = GoldenObservation(status="failed", error="spec refused: credentials")
    assert compare(task, refused).ok and compare(task, refused).outcome == "refused"
