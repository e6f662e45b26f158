"""The openai provider drives the same repair loop as the offline one: a real OpenAI-compatible
server on loopback answers the Codegen Engineer with a module that does not compile, the
generated tests fail in the sandbox, the Auto-Fixer is asked with the failing output and the
server's scripted fix is applied through the patch rules; the build releases. Every exchange of
both attempts is recorded and answers again from the record alone."""

from __future__ import annotations

import json

from mb_core.agents.base import AgentRequest, AgentRole, render_prompt
from mb_core.chaos import corrupt_generated
from mb_core.models import GeneratedFile, GeneratedFiles
from tests.core.providers.openai_server import ScriptedOpenAIServer
from tests.e2e.test_openai_build import (  # noqa: F401 - offline_record is a fixture
    CRM,
    RecordedAnswers,
    _environment,
    mb,
    offline_record,
    one_line_error,
    openai_env,
    out,
)


class BadThenFixed(RecordedAnswers):
    """The recorded answers, except: the first codegen answer has a syntax error in one router,
    and the Auto-Fixer's answer is that router as it should be."""

    def __init__(self, rows) -> None:
        super().__init__(rows)
        self.codegen_system = render_prompt(AgentRole.codegen, "")[0]
        self.fixer_system = render_prompt(AgentRole.auto_fixer, "")[0]
        self.broken: tuple[str, str] | None = None  # (path, good content)
        self.fixer_prompts: list[str] = []

    def __call__(self, body: dict):
        system, user = (m["content"] for m in body["messages"])
        if system == self.fixer_system:
            self.fixer_prompts.append(user)
            path, good = self.broken
            fix = GeneratedFiles(files=[GeneratedFile(path=path, content=good)],
                                 notes=[f"restored the definitions of {path}"])
            return ScriptedOpenAIServer.answer(fix.model_dump_json(), model=body["model"])
        step = super().__call__(body)
        if system != self.codegen_system or self.broken is not None:
            return step
        answer = GeneratedFiles.model_validate_json(step.body["choices"][0]["message"]["content"])
        faulty, what = corrupt_generated(answer, "syntax_error")
        path = what.split(" in ", 1)[1]
        self.broken = (path, next(f.content for f in answer.files if f.path == path))
        return ScriptedOpenAIServer.answer(faulty.model_dump_json(), model=body["model"])


def test_a_bad_first_answer_is_patched_through_the_loop_and_released(offline_record):  # noqa: F811
    _offline_id, rows = offline_record
    answers = BadThenFixed(rows)
    server = ScriptedOpenAIServer().start()
    server.responder = answers
    try:
        result = mb("build", "--provider", "openai", CRM, env_extra=openai_env(server))
    finally:
        server.close()
    text = out(result)
    assert result.returncode == 0, text
    assert "-> tests failed: patch 1 of 2" in text and "released in" in text, text
    build_id = text.split()[1]
    path, good = answers.broken
    # The Auto-Fixer was asked with the failing tests' output and the file they implicate.
    [fixer_prompt] = answers.fixer_prompts
    assert path in fixer_prompt and "SyntaxError" in fixer_prompt

    env = _environment()
    build = env.store.get_build(build_id)
    assert (build.status.value, build.attempt) == ("released", 2)
    attempts = env.store.list_attempts(build_id)
    assert [(a.phase.value, a.outcome.value) for a in attempts] == [("build", "failed"), ("patch", "succeeded")]
    assert attempts[0].failure_class.value == "tests_failed"
    assert all(a.tokens > 0 and a.cost_usd > 0 for a in attempts)  # both attempts metered (gpt-4o-mini)
    assert env.workspace_path(build_id).joinpath(path).read_text() == good

    # Every exchange of both attempts is in the record, and the record alone answers them again,
    # in the order they were asked: the faulty codegen answer first, then the fix.
    from mb_core.providers.replay import ReplayProvider

    exchanges = env.store.list_exchanges(build_id)
    assert len(exchanges) == len(server.requests)
    roles = [json.loads(e.request_json)["role"] for e in exchanges]
    assert roles.count("auto_fixer") == 1 and roles.count("codegen") == 1
    replay = ReplayProvider(exchanges)
    from mb_core.agents.registry import definition_for

    for exchange in exchanges:
        request = AgentRequest.model_validate_json(exchange.request_json)
        reply = replay.complete(request, definition_for(request.role).output_model)
        assert reply.content == json.loads(exchange.reply_json)["content"]

    # A finished build cannot be cancelled: one line, nothing changed.
    cancel = mb("cancel", build_id)
    assert cancel.returncode != 0
    assert one_line_error(cancel) == f"error: build {build_id} is already released"
    assert _environment().store.get_build(build_id).status.value == "released"
