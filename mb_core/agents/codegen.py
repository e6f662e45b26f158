"""Codegen Engineer: writes the application (app package, tests, README) from the scaffold plan.

The offline answer is the deterministic generator in mb_core.codegen; an LLM provider answers the
same request with the same output schema.
"""

from __future__ import annotations

from mb_core.agents.base import AgentDefinition, AgentRole
from mb_core.agents.io import CodegenInput
from mb_core.codegen import render_application, resolve
from mb_core.models import GeneratedFiles


def offline_answer(inp: CodegenInput) -> GeneratedFiles:
    notes = list(resolve(inp.plan).notes)
    return GeneratedFiles(files=render_application(inp.plan), notes=notes)


DEFINITION = AgentDefinition(
    role=AgentRole.codegen,
    input_model=CodegenInput,
    output_model=GeneratedFiles,
    offline_answer=offline_answer,
    purpose="Write the FastAPI + SQLAlchemy application and its tests from the scaffold plan.",
)
