"""A small agent used by the provider tests: one input model, one output model."""

from __future__ import annotations

from pydantic import Field

from mb_core.agents.base import AgentDefinition, AgentRole
from mb_core.models import Model


class NoteInput(Model):
    topic: str


class Note(Model):
    title: str
    points: list[str] = Field(min_length=1)


def offline_note(inp: NoteInput) -> Note:
    return Note(title=inp.topic.title(), points=[f"about {inp.topic}"])


NOTE_AGENT = AgentDefinition(
    role=AgentRole.reviewer,
    input_model=NoteInput,
    output_model=Note,
    offline_answer=offline_note,
    purpose="writes a short note on a topic",
)
