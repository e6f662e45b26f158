"""Product Architect: the user's text -> a formal ScaffoldSpec (entities, fields, relations,
roles, features, and a decision for every noun phrase it weighed)."""

from __future__ import annotations

from mb_core.agents.base import AgentDefinition, AgentRole
from mb_core.agents.io import ArchitectInput
from mb_core.models import ScaffoldSpec
from mb_core.spec import read_spec


def offline_answer(inp: ArchitectInput) -> ScaffoldSpec:
    """Rule-based reading (mb_core.spec); raises SpecRefused when nothing is buildable."""
    return read_spec(inp.text, inp.mode, inp.base_spec)


DEFINITION = AgentDefinition(
    role=AgentRole.product_architect,
    input_model=ArchitectInput,
    output_model=ScaffoldSpec,
    offline_answer=offline_answer,
    purpose="Read the plain-language (or guided YAML) spec into entities, fields, relations, "
            "roles and features, recording why each noun phrase was kept or dropped.",
)
