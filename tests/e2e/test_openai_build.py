"""`mb build --provider openai` against a real OpenAI-compatible server on loopback, then
`mb replay` of that build with the server gone: the same diff, byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.providers.openai_server import ScriptedOpenAIServer, Step

MB = str(Path(sys.executable).parent / "mb")
CRM = "Build a CRM system with contacts and deals"


def mb(*args: str, env_extra: dict | None = None, drop: tuple[str, ...] = ()):
    env = {k: v for k, v in {**os.environ, **(env_extra or {})}.items() if k not in drop}
    return subprocess.run([MB, *args], capture_output=True, env=env, timeout=600, check=False)


def out(result) -> str:
    return result.stdout.decode() + result.stderr.decode()


def one_line_error(result) -> str:
    err = result.stderr.decode().strip()
    assert "Traceback" not in out(result), out(result)
    assert len(err.splitlines()) == 1, err
    return err


def _environment():
    from mb_core.pipeline import BuildEnvironment
    from mb_core.settings import Settings

    return BuildEnvironment.open(Settings.from_env())


class RecordedAnswers:
    """Answers the server gives: the offline build's recorded replies, found by the posted
    system and user prompts (codegen and devops share the user prompt). Requests whose payload
    holds values of this build (the QA and reviewer agents read the report, with its build id and
    test timings) are not in the record: the offline rules answer those from the payload the
    prompt carries, as a model reading the same prompt would."""

    def __init__(self, rows) -> None:
        self.by_prompt = {}
        for row in rows:
            request = json.loads(row.request_json)
            self.by_prompt[request["system"], request["prompt"]] = json.loads(row.reply_json)["content"]
        self.hits = 0
        self.computed = 0

    def __call__(self, body: dict) -> Step:
        from mb_core.agents.base import AgentRequest, AgentRole
        from mb_core.agents.registry import definition_for
        from mb_core.providers.offline import OfflineProvider

        system, user = (m["content"] for m in body["messages"])
        if (system, user) in self.by_prompt:
            self.hits += 1
            return ScriptedOpenAIServer.answer(self.by_prompt[system, user], model=body["model"])
        self.computed += 1
        payload = json.loads(user.split("```json", 1)[1].split("```", 1)[0])
        schema_name = body["response_format"]["json_schema"]["name"]
        role = next(r for r in AgentRole if definition_for(r).output_model.__name__ == schema_name)
        request = AgentRequest(role=role, output_schema=schema_name, system=system, prompt=user,
                               payload=payload)
        reply = OfflineProvider().complete(request, definition_for(role).output_model)
        return ScriptedOpenAIServer.answer(reply.content, model=body["model"])


@pytest.fixture
def offline_record(mb_home):
    """The exchanges of an offline CRM build: what the scripted server answers with."""
    result = mb("build", CRM)
    assert result.returncode == 0, out(result)
    build_id = out(result).split()[1]
    return build_id, _environment().store.list_exchanges(build_id)


def openai_env(server: ScriptedOpenAIServer, **extra: str) -> dict:
    return {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url, "MB_MODEL": "gpt-4o-mini",
            **extra}


def test_openai_build_releases_and_replays_without_drift(offline_record):
    offline_id, rows = offline_record
    answers = RecordedAnswers(rows)
    server = ScriptedOpenAIServer().start()
    server.responder = answers
    # A rate limit on the very first call: the provider waits and asks again.
    server.then(ScriptedOpenAIServer.error(429, "slow down", headers={"retry-after": "0"}))
    try:
        result = mb("build", "--provider", "openai", CRM, env_extra=openai_env(server))
    finally:
        server.close()
    text = out(result)
    assert result.returncode == 0, text
    assert "released in" in text and "(openai)" in text
    build_id = text.split()[1]
    assert build_id != offline_id
    assert answers.hits >= 5, (answers.hits, answers.computed)
    assert server.headers[0]["authorization"] == "Bearer sk-test"

    env = _environment()
    exchanges = env.store.list_exchanges(build_id)
    assert {e.provider for e in exchanges} == {"openai"}
    assert {e.model for e in exchanges} == {"gpt-4o-mini"}
    assert exchanges[0].reply_json and json.loads(exchanges[0].reply_json)["attempts"] == 2
    usage = env.store.usage_totals(build_id)
    assert usage["total"]["cost_usd"] > 0  # gpt-4o-mini is priced
    assert usage["total"]["calls"] == len(exchanges) == len(server.requests) - 1

    from mb_core.models import DiffArtifact

    original = env.assets.read("diff", build_id, DiffArtifact)
    offline_diff = env.assets.read("diff", offline_id, DiffArtifact)
    assert original.sha256 == offline_diff.sha256  # the same answers give the same change
    ws = env.workspace_path(build_id)
    head_before = subprocess.run(["git", "-C", str(ws), "rev-parse", "HEAD"], capture_output=True,
                                 text=True, check=True).stdout.strip()
    gate_before = env.store.get_gate(build_id)

    # The server is gone: the replay answers from the build's own record only.
    replay = mb("replay", build_id, drop=("OPENAI_API_KEY", "OPENAI_BASE_URL"))
    assert replay.returncode == 0, out(replay)
    assert f"{build_id}: no drift (diff sha256 {original.sha256})" in out(replay)
    replayed = env.assets.read("diff", build_id, DiffArtifact)
    assert replayed.patch.encode() == original.patch.encode()
    assert replayed.head_commit != original.head_commit  # a new materialization, not the old file

    build = env.store.get_build(build_id)
    assert build.status.value == "released"
    assert env.store.get_gate(build_id) == gate_before
    assert len(env.store.list_exchanges(build_id)) == len(exchanges)  # the bundle is not doubled
    assert subprocess.run(["git", "-C", str(ws), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip() == head_before
    assert (env.artifact_dir(build_id) / "manifest.json").exists()


def test_rejected_key_fails_the_build_with_one_line(mb_home):
    server = ScriptedOpenAIServer().start()
    server.then(ScriptedOpenAIServer.error(401, "Incorrect API key provided", code="invalid_api_key"))
    try:
        result = mb("build", "--provider", "openai", CRM, env_extra=openai_env(server))
    finally:
        server.close()
    assert result.returncode != 0
    err = one_line_error(result)
    assert "401" in err or "key" in err.lower(), err
    assert len(server.requests) == 1  # an auth failure is never retried
    build_id = out(result).split()[1]
    status = out(mb("status", build_id))
    assert f"build {build_id}: failed" in status and "error:" in status


def test_missing_key_is_refused_before_any_build_row(mb_home):
    result = mb("build", "--provider", "openai", CRM, drop=("OPENAI_API_KEY",))
    assert result.returncode != 0
    assert "OPENAI_API_KEY" in one_line_error(result)
    assert "no builds yet" in out(mb("list"))


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:9/v1", "ftp://example.invalid/v1"])
def test_unreachable_or_wrong_base_url_fails_with_one_line(mb_home, base_url):
    result = mb("build", "--provider", "openai", CRM,
                env_extra={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": base_url,
                           "MB_LLM_MAX_ATTEMPTS": "2"})
    assert result.returncode != 0
    err = one_line_error(result)
    assert "127.0.0.1:9" in err or "OPENAI_BASE_URL" in err, err
    if base_url.startswith("http:"):
        build_id = out(result).split()[1]
        # A refused connection is transient: retried by the ladder, then rolled back.
        status = out(mb("status", build_id))
        assert f"build {build_id}: rolled_back" in status and "[llm_transient]" in status, status
