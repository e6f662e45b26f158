"""The 30 app prompts written outside the project, through architect + designer + security.

They are the measure of the offline reader, never its training set: the rules are general
vocabulary and grammar, and this test only checks the properties every sensible plan has.
A measurement, not part of the test suite (it reads outside the repository): run it by hand with
`.venv/bin/python -m pytest bench/external_plans.py`.
"""

import json
from pathlib import Path

import pytest

from mb_core.agents import product_architect, security, system_designer
from mb_core.agents.base import AgentContext, run_agent
from mb_core.agents.io import ArchitectInput, DesignerInput, SecurityInput
from mb_core.providers.offline import OfflineProvider
from mb_core.spec.fields import is_human_readable
from mb_core.spec.vocabulary import dropped_reasons

# the shared evaluation specs sit next to the checkout (or next to the folder of worktrees)
SPECS_FILE = next((p for p in (Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "external_specs.json",
                          Path(__file__).resolve().parents[1].parent.parent / "shared" / "eval" / "external_specs.json")
                 if p.exists()), Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "external_specs.json")
SPECS = json.loads(SPECS_FILE.read_text(encoding="utf-8"))["specs"]
# Words that are never a thing an app manages: the application itself, people in general,
# presentation, and filler.
GARBAGE = set(dropped_reasons()) | {"users_can", "way", "thing", "app", "user", "system", "it"}


def test_the_measure_is_there():
    assert len(SPECS) == 30


@pytest.mark.parametrize("item", SPECS, ids=[s["id"] for s in SPECS])
def test_external_spec_yields_a_sensible_plan(item):
    ctx = AgentContext(provider=OfflineProvider())
    spec = run_agent(product_architect.DEFINITION, ArchitectInput(text=item["spec"]), ctx)
    plan = run_agent(system_designer.DEFINITION, DesignerInput(spec=spec), ctx)
    plan = run_agent(security.DEFINITION, SecurityInput(plan=plan), ctx)

    assert plan.entities, item["id"]
    assert len(plan.entities) <= 12
    for entity in plan.entities:
        assert entity.fields, entity.name
        assert entity.name not in GARBAGE and entity.name.split("_")[-1] not in {"app", "way", "user"}
        assert any(f.required and is_human_readable(f) for f in entity.fields), entity.name
    assert spec.decisions and all(d.reason.strip() for d in spec.decisions)
    assert 0 <= plan.risk_score <= 100 and plan.risk_notes
    assert plan.migrations[0].tables == [e.name for e in plan.entities]
    assert any(r.name == "admin" for r in plan.roles)
