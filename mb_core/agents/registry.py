"""Role -> agent definition. Each role module exports DEFINITION."""

from __future__ import annotations

import importlib
from functools import cache

from mb_core.agents.base import AgentDefinition, AgentRole


@cache
def definition_for(role: AgentRole) -> AgentDefinition:
    module = importlib.import_module(f"mb_core.agents.{role.value}")
    return module.DEFINITION
