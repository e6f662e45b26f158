"""The provider chaos seam, in two places so every provider meets the same faults its own way.

- `ChaosProvider` wraps a provider that has no network under it (the offline rules): a 429, a 500
  or a timeout is the ProviderError (transient) a remote provider would raise; a malformed or
  truncated answer is really handed back, so the agent's own schema check refuses it.
- `ChaosTransport` sits under the openai client, where the bytes cross the wire: a 429 with
  Retry-After, a 500, a read timeout, or the server's real answer with its JSON damaged or cut
  off (finish_reason length). The openai provider's own classification and retries then act.
"""

from __future__ import annotations

import json

import httpx2
from pydantic import BaseModel

from mb_core import chaos
from mb_core.agents.base import AgentReply, AgentRequest, LLMProvider
from mb_core.errors import ProviderError


def damaged(content: str, fault: str) -> str:
    """An answer as a faulty model or a cut connection hands it back: not JSON any more."""
    if fault == "malformed":
        return "Here is the JSON you asked for: " + content.rstrip().removesuffix("}")
    if fault == "truncated":
        return content[: max(1, len(content) // 2)]
    raise ValueError(f"unknown answer fault {fault!r}")


class ChaosProvider:
    """A provider with the chaos seam in front of each call."""

    def __init__(self, inner: LLMProvider):
        self.inner = inner
        self.name = inner.name
        self.model = getattr(inner, "model", inner.name)

    def complete(self, request: AgentRequest, schema: type[BaseModel]) -> AgentReply:
        fault = chaos.inject("provider")
        where = f"{request.role.value}: {self.name} provider"
        if fault == "http_429":
            raise ProviderError(f"{where} is rate limiting (429, injected fault); retry later", kind="transient")
        if fault == "http_500":
            raise ProviderError(f"{where} failed (500: injected fault); retry later", kind="transient")
        if fault == "timeout":
            raise ProviderError(f"{where} timed out (injected fault); retry later", kind="transient")
        reply = self.inner.complete(request, schema)
        if fault in ("malformed", "truncated"):
            return reply.model_copy(update={"content": damaged(reply.content, fault),
                                            "finish_reason": "length" if fault == "truncated" else "stop"})
        return reply


def with_chaos(provider: LLMProvider) -> LLMProvider:
    """The provider with its chaos seam (the openai provider has its own, under its client)."""
    if getattr(provider, "chaos_in_transport", False) or isinstance(provider, ChaosProvider):
        return provider
    return ChaosProvider(provider)


class ChaosTransport(httpx2.BaseTransport):
    """An httpx2 transport that passes requests to `inner` unless the attempt's fault is here."""

    def __init__(self, inner: httpx2.BaseTransport | None = None):
        self.inner = inner or httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        fault = chaos.inject("provider")
        if fault == "http_429":
            return _error(request, 429, "Rate limit reached (injected fault)", {"retry-after": "0"})
        if fault == "http_500":
            return _error(request, 500, "The server had an error (injected fault)")
        if fault == "timeout":
            raise httpx2.ReadTimeout("injected fault: no answer in time", request=request)
        response = self.inner.handle_request(request)
        if fault not in ("malformed", "truncated") or response.status_code != 200:
            return response
        response.read()
        try:
            body = json.loads(response.content)
            choice = body["choices"][0]
            choice["message"]["content"] = damaged(choice["message"].get("content") or "", fault)
            if fault == "truncated":
                choice["finish_reason"] = "length"
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return httpx2.Response(200, content=response.content[: len(response.content) // 2],
                                   headers={"content-type": "application/json"}, request=request)
        return httpx2.Response(200, json=body, request=request)

    def close(self) -> None:
        self.inner.close()


def _error(request: httpx2.Request, code: int, message: str, headers: dict | None = None) -> httpx2.Response:
    return httpx2.Response(code, json={"error": {"message": message, "type": "injected_fault"}},
                           headers=headers or {}, request=request)
