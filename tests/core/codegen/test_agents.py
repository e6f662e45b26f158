"""The Codegen and DevOps agents answer through the offline provider like any other agent."""

from __future__ import annotations

from mb_core.agents.base import AgentContext, AgentRole, run_agent
from mb_core.agents.codegen import DEFINITION as CODEGEN
from mb_core.agents.devops import DEFINITION as DEVOPS
from mb_core.agents.io import CodegenInput, DevopsInput
from mb_core.codegen import render_application, render_devops
from mb_core.models import GeneratedFiles
from mb_core.providers.offline import OfflineProvider
from tests.core.codegen.conftest import awkward_plan, crm_plan


def test_definitions():
    assert CODEGEN.role == AgentRole.codegen and CODEGEN.input_model is CodegenInput
    assert DEVOPS.role == AgentRole.devops and DEVOPS.input_model is DevopsInput
    assert CODEGEN.output_model is GeneratedFiles and DEVOPS.output_model is GeneratedFiles


def test_codegen_agent_answers_the_generated_application():
    ctx = AgentContext(provider=OfflineProvider())
    answer = run_agent(CODEGEN, CodegenInput(plan=crm_plan()), ctx)
    assert answer.files == render_application(crm_plan())


def test_devops_agent_answers_migrations_and_notes_them():
    ctx = AgentContext(provider=OfflineProvider())
    answer = run_agent(DEVOPS, DevopsInput(plan=awkward_plan()), ctx)
    assert answer.files == render_devops(awkward_plan())
    assert answer.notes and answer.notes[0].startswith("migration 0001")
