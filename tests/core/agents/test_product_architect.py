"""The Product Architect through the real agent path: request, offline provider, validation."""

import pytest

from mb_core.agents.base import AgentContext, run_agent
from mb_core.agents.io import ArchitectInput
from mb_core.agents.product_architect import DEFINITION
from mb_core.errors import SpecRefused
from mb_core.models import ScaffoldSpec, SpecMode
from mb_core.providers.offline import OfflineProvider


def architect(text: str, **kw) -> ScaffoldSpec:
    return run_agent(DEFINITION, ArchitectInput(text=text, **kw), AgentContext(provider=OfflineProvider()))


def test_freeform_through_the_offline_provider():
    spec = architect("Build a CRM system with contacts and deals")
    assert isinstance(spec, ScaffoldSpec)
    assert [e.name for e in spec.entities] == ["contact", "deal"]


def test_guided_mode_and_incremental_base():
    base = architect("title: Shop\nentities:\n  product: [name, price]\n", mode=SpecMode.guided)
    assert base.mode == SpecMode.guided
    grown = architect("Add orders linked to products", base_spec=base)
    assert [e.name for e in grown.entities] == ["product", "order"]
    assert ("product", "order") in {(r.parent, r.child) for r in grown.relations}


def test_refusal_crosses_the_provider_boundary_as_spec_refused():
    with pytest.raises(SpecRefused, match="--provider openai"):
        architect("hello")
