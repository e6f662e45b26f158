"""A real OpenAI-compatible HTTP server on 127.0.0.1, answering from a script.

Each POST /v1/chat/completions takes the next step of the script: a completion, an HTTP error, a
stall longer than the client's timeout, a dropped connection or a raw body. When the script is
spent, `responder` (if set) answers from the request body. Every request body is kept in
`requests` so tests can check what was sent and how often.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Step:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> sent as is
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False  # close the connection without an answer


def completion(
    content: str | None,
    *,
    model: str = "test-model",
    finish_reason: str = "stop",
    usage: tuple[int, int] | None = (100, 50),
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage is not None:
        body["usage"] = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        }
    return body


class ScriptedOpenAIServer:
    def __init__(self) -> None:
        self.script: deque[Step] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.responder: Callable[[dict[str, Any]], Step] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"unparsed": raw.decode("utf-8", "replace")}
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    step = server._next_step(self.path, body)
                if step.delay_s:
                    server._stop.wait(step.delay_s)
                if step.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                payload = (
                    step.body if isinstance(step.body, str) else json.dumps(step.body)
                ).encode("utf-8")
                try:
                    self.send_response(step.status)
                    self.send_header("content-type", step.content_type)
                    self.send_header("content-length", str(len(payload)))
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (timeout tests)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- scripting ---------------------------------------------------------------------------

    def then(self, *steps: Step) -> ScriptedOpenAIServer:
        self.script.extend(steps)
        return self

    @staticmethod
    def answer(content: str | None, **kwargs: Any) -> Step:
        return Step(body=completion(content, **kwargs))

    @staticmethod
    def error(status: int, message: str, code: str | None = None, **kwargs: Any) -> Step:
        return Step(
            status=status,
            body={"error": {"message": message, "type": "invalid_request_error", "code": code}},
            **kwargs,
        )

    @staticmethod
    def stall(seconds: float) -> Step:
        return Step(body=completion("{}"), delay_s=seconds)

    @staticmethod
    def drop() -> Step:
        return Step(drop=True)

    @staticmethod
    def raw(text: str, status: int = 200, content_type: str = "text/html") -> Step:
        return Step(status=status, body=text, content_type=content_type)

    def _next_step(self, path: str, body: dict[str, Any]) -> Step:
        if not path.rstrip("/").endswith("/v1/chat/completions"):
            return self.raw("<html>not found</html>", status=404)
        if self.script:
            return self.script.popleft()
        if self.responder is not None:
            return self.responder(body)
        return self.error(500, "the test script has no step left for this request")

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ScriptedOpenAIServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

