"""The one shape every agent role has, and the request/reply that crosses the provider boundary.

An agent turns an input model into an output model by asking a provider. The request carries both
a rendered prompt (what an LLM reads) and the structured payload (what the offline rules read), so
every provider answers the same request and every answer is validated by the same schema.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mb_core.errors import ProviderError

PROMPTS_DIR = Path(__file__).parent / "prompts"


class AgentRole(str, Enum):
    product_architect = "product_architect"
    system_designer = "system_designer"
    security = "security"
    codegen = "codegen"
    qa = "qa"
    auto_fixer = "auto_fixer"
    devops = "devops"
    reviewer = "reviewer"


class AgentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: AgentRole
    output_schema: str
    system: str
    prompt: str
    payload: dict[str, Any]

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    @property
    def key(self) -> str:
        """Hash of the canonical request: how a replay bundle finds the recorded answer."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class AgentReply(BaseModel):
    content: str  # JSON text that must validate against the request's output schema
    usage: Usage = Field(default_factory=Usage)
    provider: str
    model: str
    latency_s: float = 0.0
    finish_reason: str = "stop"
    cost_usd: float = 0.0
    attempts: int = 1  # provider attempts behind this reply, retries included


class LLMProvider(Protocol):
    name: str

    def complete(self, request: AgentRequest, schema: type[BaseModel]) -> AgentReply: ...


ExchangeRecorder = Callable[[AgentRequest, AgentReply], None]

I = TypeVar("I", bound=BaseModel)
O = TypeVar("O", bound=BaseModel)


@dataclass(frozen=True)
class AgentDefinition(Generic[I, O]):
    role: AgentRole
    input_model: type[I]
    output_model: type[O]
    offline_answer: Callable[[I], O]
    purpose: str


@dataclass
class AgentContext:
    provider: LLMProvider
    build_id: str = ""
    recorders: list[ExchangeRecorder] = field(default_factory=list)
    # Called before every provider call with the request; raises BudgetExceeded when spent.
    before_call: Callable[[AgentRequest], None] | None = None


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate (about four characters a token) for providers that meter none."""
    return max(1, (len(text) + 3) // 4)


def render_prompt(role: AgentRole, payload_json: str) -> tuple[str, str]:
    """System and user prompt for a role, from the template files kept beside the agents."""
    system = (PROMPTS_DIR / f"{role.value}.system.md").read_text(encoding="utf-8")
    user = (PROMPTS_DIR / "user.md").read_text(encoding="utf-8")
    return system.strip(), user.replace("{{payload}}", payload_json).strip()


def build_request(definition: AgentDefinition, inp: BaseModel) -> AgentRequest:
    payload = inp.model_dump(mode="json")
    payload_json = json.dumps(payload, sort_keys=True, indent=1)
    system, prompt = render_prompt(definition.role, payload_json)
    return AgentRequest(
        role=definition.role,
        output_schema=definition.output_model.__name__,
        system=system,
        prompt=prompt,
        payload=payload,
    )


def run_agent(definition: AgentDefinition[I, O], inp: I, ctx: AgentContext) -> O:
    request = build_request(definition, inp)
    if ctx.before_call is not None:
        ctx.before_call(request)
    reply = ctx.provider.complete(request, definition.output_model)
    for record in ctx.recorders:
        record(request, reply)
    try:
        return definition.output_model.model_validate_json(reply.content)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"msg": str(exc)}
        where = ".".join(str(p) for p in first.get("loc", ())) or "output"
        raise ProviderError(
            f"{definition.role.value}: {ctx.provider.name} answered output that does not fit "
            f"{definition.output_model.__name__} ({where}: {first.get('msg')})",
            kind="invalid_output",
        ) from exc
