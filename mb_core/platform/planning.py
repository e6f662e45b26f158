"""A plan for a spec without a build: the same agents a build's `spec` and `plan` steps run."""

from __future__ import annotations

from mb_core.agents.base import AgentContext, AgentRole, run_agent
from mb_core.agents.io import ArchitectInput, DesignerInput, SecurityInput
from mb_core.agents.registry import definition_for
from mb_core.models import ScaffoldPlan, SpecMode
from mb_core.providers.offline import OfflineProvider


def plan_spec(text: str, mode: SpecMode) -> ScaffoldPlan:
    """Product Architect, System Designer, then Security, on the offline provider (deterministic,
    no spend). SpecRefused when the text holds nothing buildable."""
    ctx = AgentContext(provider=OfflineProvider())
    spec = run_agent(definition_for(AgentRole.product_architect), ArchitectInput(text=text, mode=mode), ctx)
    designed = run_agent(definition_for(AgentRole.system_designer), DesignerInput(spec=spec), ctx)
    return run_agent(definition_for(AgentRole.security), SecurityInput(plan=designed), ctx)
