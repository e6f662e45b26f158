"""Answers from a recorded build, so any past build can be re-run exactly.

A bundle is every exchange (request, reply) of a build, found again by the request's hash. A
request not in the bundle is an error, never a fresh answer: a replay that quietly asked someone
else would no longer be a replay.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mb_core.agents.base import AgentReply, AgentRequest
from mb_core.errors import InvalidSettings, ProviderError


class RecordedExchange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: AgentRequest
    reply: AgentReply

    @property
    def key(self) -> str:
        return self.request.key


class ExchangeLog:
    """An ExchangeRecorder that keeps every exchange in order: the bundle a replay reads."""

    def __init__(self) -> None:
        self.exchanges: list[RecordedExchange] = []

    def __call__(self, request: AgentRequest, reply: AgentReply) -> None:
        self.exchanges.append(RecordedExchange(request=request, reply=reply))

    def __len__(self) -> int:
        return len(self.exchanges)

    def to_json(self) -> list[dict[str, Any]]:
        return [exchange.model_dump(mode="json") for exchange in self.exchanges]


# Exchanges as recorded (RecordedExchange, its JSON form, (request, reply) pairs, or store rows
# with `request_key` and `reply_json`), or request hash -> reply.
BundleInput = (
    Iterable[RecordedExchange | Mapping[str, Any] | tuple[AgentRequest, AgentReply] | Any]
    | Mapping[str, AgentReply | Mapping[str, Any] | list[AgentReply | Mapping[str, Any]]]
    | ExchangeLog
)


def _as_reply(value: AgentReply | Mapping[str, Any]) -> AgentReply:
    return value if isinstance(value, AgentReply) else AgentReply.model_validate(value)


def index_bundle(bundle: BundleInput) -> dict[str, list[AgentReply]]:
    """Request hash -> recorded replies in the order they were given.

    The same request can have been asked more than once in a build (an agent re-run on the same
    input); each asking gets the next recorded reply, as it did the first time.
    """
    try:
        if isinstance(bundle, ExchangeLog):
            bundle = bundle.exchanges
        index: dict[str, list[AgentReply]] = {}
        if isinstance(bundle, Mapping):
            for key, value in bundle.items():
                values = value if isinstance(value, list) else [value]
                index[str(key)] = [_as_reply(v) for v in values]
            return index
        for item in bundle:
            if hasattr(item, "request_key") and hasattr(item, "reply_json"):
                # A row read back from the store: already keyed, reply kept as JSON text.
                reply = AgentReply.model_validate_json(item.reply_json)
                index.setdefault(str(item.request_key), []).append(reply)
                continue
            if isinstance(item, tuple):
                item = RecordedExchange(request=item[0], reply=item[1])
            elif not isinstance(item, RecordedExchange):
                item = RecordedExchange.model_validate(item)
            index.setdefault(item.key, []).append(item.reply)
        return index
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid"}
        where = ".".join(str(p) for p in first.get("loc", ())) or "exchange"
        raise InvalidSettings(
            f"replay bundle is not a list of recorded exchanges ({where}: {first.get('msg')}); "
            "replay a bundle recorded by a build"
        ) from exc


# Timings, pytest's output tail and the sandbox's uid (taken from a range per run) change on every
# run of the same tests; the QA and review requests carry them, so a replay also matches a request
# equal to a recorded one but for these.
VOLATILE_FIELDS = frozenset({"seconds", "latency_s", "output_tail", "uid"})


def _without_volatile(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE_FIELDS}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


def stable_key(request: AgentRequest | Mapping[str, Any]) -> str:
    """Hash of the request without its run-to-run timings (the prompt is the payload rendered)."""
    data = request.model_dump(mode="json") if isinstance(request, AgentRequest) else request
    stable = {"role": data.get("role"), "output_schema": data.get("output_schema"),
              "system": data.get("system"), "payload": _without_volatile(data.get("payload"))}
    return hashlib.sha256(json.dumps(stable, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def stable_index(bundle: BundleInput) -> dict[str, list[AgentReply]]:
    """Stable request hash -> recorded replies, for the bundles that keep their requests."""
    if isinstance(bundle, ExchangeLog):
        bundle = bundle.exchanges
    if isinstance(bundle, Mapping):
        return {}
    index: dict[str, list[AgentReply]] = {}
    try:
        for item in bundle:
            if hasattr(item, "request_json") and hasattr(item, "reply_json"):
                key = stable_key(json.loads(item.request_json))
                reply = AgentReply.model_validate_json(item.reply_json)
            else:
                if isinstance(item, tuple):
                    item = RecordedExchange(request=item[0], reply=item[1])
                elif not isinstance(item, RecordedExchange):
                    item = RecordedExchange.model_validate(item)
                key, reply = stable_key(item.request), item.reply
            index.setdefault(key, []).append(reply)
    except (ValidationError, ValueError, TypeError):
        return {}  # index_bundle already names what is wrong with the bundle
    return index


class ReplayProvider:
    name = "replay"

    def __init__(self, bundle: BundleInput):
        if not isinstance(bundle, (Mapping, ExchangeLog)):
            bundle = list(bundle)  # read twice below
        self._replies = index_bundle(bundle)
        self._stable = stable_index(bundle)
        self._served: dict[str, int] = {}

    def __len__(self) -> int:
        return sum(len(replies) for replies in self._replies.values())

    def complete(self, request: AgentRequest, schema: type[BaseModel]) -> AgentReply:
        key = request.key
        replies = self._replies.get(key)
        if not replies:
            key = "stable:" + stable_key(request)
            replies = self._stable.get(key.removeprefix("stable:"))
        if not replies:
            key = request.key
            raise ProviderError(
                f"{request.role.value}: replay has no recorded answer for request {key[:12]} "
                f"({len(self)} exchanges in the bundle); the input differs from the recorded "
                "build, so re-run it with a live provider instead",
                kind="permanent",
            )
        served = self._served.get(key, 0)
        # Past the recorded count, keep giving the last answer: it is what the build last saw.
        reply = replies[min(served, len(replies) - 1)]
        self._served[key] = served + 1
        # Nothing is spent replaying; usage stays as recorded so token accounting matches.
        return reply.model_copy(
            update={"provider": self.name, "latency_s": 0.0, "cost_usd": 0.0, "attempts": 1}
        )
