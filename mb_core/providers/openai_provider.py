"""Agents answered by a model behind any OpenAI-compatible chat completions endpoint.

OpenAI itself, vLLM, Ollama and LiteLLM all speak `POST {base_url}/chat/completions`. The answer is
asked for as JSON fitting the role's pydantic schema (`response_format` json_schema, non-strict so
that any pydantic schema is accepted); a server that rejects json_schema gets plain JSON mode with
the schema in the system message instead.

Every failure becomes one ProviderError whose `kind` tells the repair policy what may help:
transient (timeouts, refused connections, 429, 5xx) is retried here with jittered backoff;
invalid_output (not JSON, wrong shape, cut off) is retried once at most; permanent (auth, unknown
model, bad request) never.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, stop_after_attempt
from tenacity.wait import wait_random_exponential

from mb_core.agents.base import (
    AgentReply,
    AgentRequest,
    AgentRole,
    Usage,
    estimate_tokens,
)
from mb_core.errors import ProviderError
from mb_core.metering import PriceTable

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# A wrong host or a closed port must fail in seconds, whatever the read timeout is.
CONNECT_TIMEOUT_S = 2.0
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


def host_port(base_url: str) -> str:
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname or base_url}:{port}"


def _one_line(text: object, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return _one_line(inner["message"])
        if isinstance(inner, str):
            return _one_line(inner)
    return _one_line(exc.message)


def _retry_after_s(exc: openai.APIStatusError) -> float | None:
    raw = exc.response.headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


class _Attempt(Exception):
    """A failed attempt: the error to raise if it is the last one, and how long the server asked
    us to wait."""

    def __init__(
        self, error: ProviderError, retry_after_s: float | None = None, retry_once: bool = False
    ):
        super().__init__(str(error))
        self.error = error
        self.retry_after_s = retry_after_s
        self.retry_once = retry_once  # a malformed answer may be a fluke of sampling


class OpenAIProvider:
    name = "openai"
    chaos_in_transport = True  # see mb_core.providers.chaos

    def __init__(
        self,
        base_url: str,
        api_key: str,
        models: Mapping[AgentRole | str, str] | None = None,
        default_model: str = "gpt-4o-mini",
        timeout_s: float = 120.0,
        max_attempts: int = 4,
        price_table: PriceTable | None = None,
        *,
        max_output_tokens: int | None = None,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx2.BaseTransport | None = None,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.endpoint = host_port(self.base_url)
        self.models = {AgentRole(k).value: v for k, v in (models or {}).items()}
        self.default_model = default_model
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.price_table = price_table or PriceTable()
        self.max_output_tokens = max_output_tokens
        self._backoff = wait_random_exponential(multiplier=backoff_initial_s, max=backoff_max_s)
        self._backoff_max_s = backoff_max_s
        self._sleep = sleep
        # Learned on the first rejection, so one server is not asked for json_schema twice.
        self.json_schema_supported = True
        from mb_core.providers.chaos import ChaosTransport

        timeout = httpx2.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s))
        self.client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key,
            max_retries=0,  # retried below, with our own classification
            timeout=timeout,
            # The chaos seam sits where the bytes cross the wire; it passes everything through
            # unless a build's attempt has a provider fault planned.
            http_client=openai.DefaultHttpxClient(transport=ChaosTransport(transport), timeout=timeout),
        )

    def model_for(self, role: AgentRole) -> str:
        return self.models.get(role.value, self.default_model)

    # -----------------------------------------------------------------------------------------

    def complete(self, request: AgentRequest, schema: type[BaseModel]) -> AgentReply:
        model = self.model_for(request.role)
        started = time.perf_counter()
        attempts = 0
        invalid_outputs = 0

        def once() -> AgentReply:
            nonlocal attempts, invalid_outputs
            attempts += 1
            try:
                return self._attempt(request, schema, model)
            except _Attempt as failed:
                if failed.error.kind == "invalid_output":
                    invalid_outputs += 1
                raise

        def may_retry(state: RetryCallState) -> bool:
            failed = state.outcome.exception() if state.outcome else None
            if not isinstance(failed, _Attempt):
                return False
            if failed.error.kind == "transient":
                return True
            # Ask once more after a malformed answer, never blindly again.
            return failed.retry_once and invalid_outputs < 2

        def wait(state: RetryCallState) -> float:
            failed = state.outcome.exception() if state.outcome else None
            jittered = self._backoff(state)
            if isinstance(failed, _Attempt) and failed.retry_after_s is not None:
                return min(max(jittered, failed.retry_after_s), self._backoff_max_s)
            return jittered

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            retry=may_retry,
            wait=wait,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            reply = retrying(once)
        except _Attempt as failed:
            err = failed.error
            if attempts > 1:
                err = ProviderError(f"{err.message} (after {attempts} attempts)", kind=err.kind)
            raise err from failed.__cause__
        return reply.model_copy(
            update={"latency_s": round(time.perf_counter() - started, 4), "attempts": attempts}
        )

    # -----------------------------------------------------------------------------------------

    def _messages(self, request: AgentRequest, schema: type[BaseModel]) -> list[dict[str, str]]:
        system = request.system
        if not self.json_schema_supported:
            system += (
                "\n\nAnswer with one JSON object only, no prose, fitting this JSON schema:\n"
                + json.dumps(schema.model_json_schema(), separators=(",", ":"))
            )
        return [{"role": "system", "content": system}, {"role": "user", "content": request.prompt}]

    def _response_format(self, schema: type[BaseModel]) -> dict[str, Any]:
        if not self.json_schema_supported:
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "json_schema": {
                "name": re.sub(r"[^A-Za-z0-9_-]", "_", schema.__name__)[:64],
                "schema": schema.model_json_schema(),
                "strict": False,
            },
        }

    def _send(self, request: AgentRequest, schema: type[BaseModel], model: str):
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": self._messages(request, schema),
            "response_format": self._response_format(schema),
        }
        if self.max_output_tokens is not None:
            kwargs["max_tokens"] = self.max_output_tokens
        return self.client.chat.completions.create(**kwargs)

    def _attempt(self, request: AgentRequest, schema: type[BaseModel], model: str) -> AgentReply:
        where = f"{request.role.value}: model {model} at {self.endpoint}"
        try:
            try:
                completion = self._send(request, schema, model)
            except openai.BadRequestError as exc:
                if not (self.json_schema_supported and _rejects_json_schema(exc)):
                    raise
                self.json_schema_supported = False
                completion = self._send(request, schema, model)
        except openai.APIError as exc:
            raise self._classify(exc, request.role, model) from exc
        return self._reply(request, schema, model, completion, where)

    def _classify(self, exc: openai.APIError, role: AgentRole, model: str) -> _Attempt:
        base = self.base_url
        where = f"{role.value}: model {model} at {self.endpoint}"
        if isinstance(exc, openai.APITimeoutError):
            if isinstance(exc.__cause__, httpx2.ConnectTimeout):
                return _Attempt(ProviderError(
                    f"{where} cannot be reached (no connection within "
                    f"{min(CONNECT_TIMEOUT_S, self.timeout_s):g} s); check OPENAI_BASE_URL "
                    f"({base}) and that the server is running",
                    kind="transient",
                ))
            return _Attempt(ProviderError(
                f"{where} timed out (no answer within {self.timeout_s:g} s); "
                "retry later or raise the provider timeout",
                kind="transient",
            ))
        if isinstance(exc, openai.APIConnectionError):
            return _Attempt(ProviderError(
                f"{where} cannot be reached ({_one_line(exc.__cause__ or exc.message, 80)}); "
                f"check OPENAI_BASE_URL ({base}) and that the server is running",
                kind="transient",
            ))
        if isinstance(exc, openai.APIStatusError):
            code = exc.status_code
            said = _server_message(exc)
            if code in (401, 403) or isinstance(exc, openai.AuthenticationError):
                return _Attempt(ProviderError(
                    f"{where} refused the API key ({code}); set OPENAI_API_KEY to a key this "
                    "server accepts",
                    kind="permanent",
                ))
            if code == 404:
                if "model" in said.lower():
                    return _Attempt(ProviderError(
                        f"{where}: the server does not know this model (404: {said}); set "
                        f"MB_MODEL_{role.value.upper()} or MB_MODEL to a model it serves",
                        kind="permanent",
                    ))
                return _Attempt(ProviderError(
                    f"{where}: no chat completions endpoint under {base} (404); check "
                    "OPENAI_BASE_URL (it usually ends in /v1)",
                    kind="permanent",
                ))
            if code in (408, 409, 429) or code >= 500:
                what = "is rate limiting" if code == 429 else f"failed ({code}: {said})"
                return _Attempt(
                    ProviderError(f"{where} {what}; retry later", kind="transient"),
                    retry_after_s=_retry_after_s(exc),
                )
            return _Attempt(ProviderError(
                f"{where} rejected the request ({code}: {said}); check the model settings",
                kind="permanent",
            ))
        # Anything else the client raises means the answer itself could not be read.
        return _Attempt(ProviderError(
            f"{where} answered something that is not a chat completion ({_one_line(exc.message, 80)}); "
            "check OPENAI_BASE_URL points at an OpenAI-compatible server",
            kind="permanent",
        ))

    def _reply(self, request, schema, model, completion, where) -> AgentReply:
        if not hasattr(completion, "choices"):
            raise _Attempt(ProviderError(
                f"{where} answered something that is not a chat completion; check OPENAI_BASE_URL "
                f"({self.base_url}) points at an OpenAI-compatible server",
                kind="permanent",
            ))
        choice = completion.choices[0] if completion.choices else None
        if choice is None:
            raise _Attempt(ProviderError(f"{where} answered with no choices", kind="invalid_output"))
        finish = choice.finish_reason or "stop"
        content = choice.message.content if choice.message else None
        if finish == "length":
            # The same request would be cut at the same place: not worth another attempt.
            raise _Attempt(ProviderError(
                f"{where} was cut off before finishing its answer (finish_reason length); raise the "
                "model's output token limit or use a model with a larger context",
                kind="invalid_output",
            ))
        if finish == "content_filter" or getattr(choice.message, "refusal", None):
            raise _Attempt(ProviderError(
                f"{where} refused to answer ({_one_line(getattr(choice.message, 'refusal', None) or finish, 80)}); "
                "rephrase the specification or use the offline provider",
                kind="invalid_output",
            ))
        text = _strip_fence(content or "")
        try:
            schema.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {"msg": "invalid"}
            loc = ".".join(str(p) for p in first.get("loc", ())) or "output"
            raise _Attempt(
                ProviderError(
                    f"{where} answered output that does not fit {schema.__name__} "
                    f"({loc}: {_one_line(first.get('msg'), 80)}); retry or use a stronger model",
                    kind="invalid_output",
                ),
                retry_once=True,
            ) from exc
        if completion.usage is not None:
            usage = Usage(
                prompt_tokens=completion.usage.prompt_tokens or 0,
                completion_tokens=completion.usage.completion_tokens or 0,
            )
        else:  # some servers meter nothing: estimate, so budgets still hold
            usage = Usage(
                prompt_tokens=estimate_tokens(request.system) + estimate_tokens(request.prompt),
                completion_tokens=estimate_tokens(text),
            )
        served = completion.model or model
        return AgentReply(
            content=text,
            usage=usage,
            provider=self.name,
            model=served,
            finish_reason=finish,
            cost_usd=self.price_table.cost_usd(served, usage),
        )


def _rejects_json_schema(exc: openai.BadRequestError) -> bool:
    said = _server_message(exc).lower()
    return "response_format" in said or "json_schema" in said


def _strip_fence(text: str) -> str:
    """Local models often wrap JSON in a markdown fence despite being asked not to."""
    match = _FENCE.match(text)
    return match.group(1).strip() if match else text.strip()
