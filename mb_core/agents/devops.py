"""DevOps: migrations (one revision per plan revision), seed script, .env.example, Dockerfile, CI."""

from __future__ import annotations

from mb_core.agents.base import AgentDefinition, AgentRole
from mb_core.agents.io import DevopsInput
from mb_core.codegen import render_devops, resolve
from mb_core.models import GeneratedFiles


def offline_answer(inp: DevopsInput) -> GeneratedFiles:
    bp = resolve(inp.plan)
    notes = [f"migration {rev.revision}: {rev.message}" for rev in bp.revisions]
    return GeneratedFiles(files=render_devops(inp.plan), notes=notes)


DEFINITION = AgentDefinition(
    role=AgentRole.devops,
    input_model=DevopsInput,
    output_model=GeneratedFiles,
    offline_answer=offline_answer,
    purpose="Write the Alembic migrations, seed script, environment example, Dockerfile and CI workflow.",
)
