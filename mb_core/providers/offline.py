"""The embedded default: deterministic rule-based agents, no network, no key.

It answers the same AgentRequest an LLM gets, from the structured payload, so the recording and
replay machinery and every downstream step treat it like any other provider.
"""

from __future__ import annotations

import time

from pydantic import BaseModel

from mb_core.agents.base import AgentReply, AgentRequest, Usage, estimate_tokens
from mb_core.agents.registry import definition_for


class OfflineProvider:
    name = "offline"
    model = "offline-rules-1"

    def complete(self, request: AgentRequest, schema: type[BaseModel]) -> AgentReply:
        started = time.perf_counter()
        definition = definition_for(request.role)
        answer = definition.offline_answer(definition.input_model.model_validate(request.payload))
        content = schema.model_validate(answer.model_dump()).model_dump_json()
        return AgentReply(
            content=content,
            usage=Usage(
                prompt_tokens=estimate_tokens(request.system) + estimate_tokens(request.prompt),
                completion_tokens=estimate_tokens(content),
            ),
            provider=self.name,
            model=self.model,
            latency_s=round(time.perf_counter() - started, 4),
        )
