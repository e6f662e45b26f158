"""Auto-Fixer: turns a failing evaluation into a constrained patch (whole-file replacements).

The offline rules know one safe repair: put implicated files back to what the generator writes for
this plan (a hand edit, a bad merge or an interrupted write is undone). When every file already
matches, there is nothing it can patch, and the healing policy moves on to re-plan.
"""

from __future__ import annotations

from mb_core.agents.base import AgentDefinition, AgentRole
from mb_core.agents.io import FixInput
from mb_core.models import GeneratedFile, GeneratedFiles


def propose_patch(inp: FixInput) -> GeneratedFiles:
    from mb_core.codegen import render_application, render_devops

    expected = {f.path: f.content for f in render_application(inp.plan) + render_devops(inp.plan)}
    patch = [
        GeneratedFile(path=f.path, content=expected[f.path])
        for f in sorted(inp.files, key=lambda f: f.path)
        if f.path in expected and expected[f.path] != f.content
    ]
    notes = (
        [f"restored {len(patch)} file(s) to the generator's output"]
        if patch
        else ["every implicated file already matches the generator's output: nothing to patch"]
    )
    return GeneratedFiles(files=patch, notes=notes)


DEFINITION = AgentDefinition(
    role=AgentRole.auto_fixer,
    input_model=FixInput,
    output_model=GeneratedFiles,
    offline_answer=propose_patch,
    purpose="propose the smallest whole-file patch that makes failing tests pass",
)
