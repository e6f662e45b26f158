"""A replay matches a request that differs from the recorded one only in run-to-run timings."""

from __future__ import annotations

import pytest

from mb_core.agents.base import AgentReply, AgentRequest, AgentRole
from mb_core.errors import ProviderError
from mb_core.providers.replay import ReplayProvider, stable_key


def _qa(seconds: float, passed: int = 3, tail: str = "3 passed in 1.00s") -> AgentRequest:
    payload = {"report": {"build_id": "b1", "seconds": seconds, "tests_passed": passed,
                          "output_tail": tail, "tests": [{"nodeid": "t::a", "seconds": seconds}]}}
    return AgentRequest(role=AgentRole.qa, output_schema="QAVerdict", system="judge",
                        prompt=f"payload {payload}", payload=payload)


REPLY = AgentReply(content='{"passed": true}', provider="openai", model="m")


def test_timings_do_not_change_the_stable_key_but_outcomes_do():
    assert _qa(1.0).key != _qa(2.5, tail="3 passed in 2.50s").key
    assert stable_key(_qa(1.0)) == stable_key(_qa(2.5, tail="3 passed in 2.50s"))
    assert stable_key(_qa(1.0)) != stable_key(_qa(1.0, passed=2))


def test_replay_answers_a_retimed_request_and_refuses_a_changed_one():
    provider = ReplayProvider([(_qa(1.0), REPLY)])
    assert provider.complete(_qa(9.9, tail="x"), dict).content == REPLY.content
    with pytest.raises(ProviderError, match="qa: replay has no recorded answer for request"):
        provider.complete(_qa(1.0, passed=2), dict)
