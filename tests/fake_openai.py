"""A small OpenAI-compatible server on 127.0.0.1 for tests: POST /v1/chat/completions answers from a
script, with usage, or with the HTTP error the script names; every request body is recorded.

    with FakeOpenAI([error(429, retry_after=0), completion("Title: ...", 1200, 300)]) as server:
        ChatOpenAI(model="gpt-5-mini", base_url=server.url, api_key="test").invoke("hi")
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Completion:
    content: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0


@dataclass
class Failure:
    status: int
    message: str
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def completion(content: str, prompt_tokens: int = 1000, completion_tokens: int = 200, cached: int = 0) -> Completion:
    return Completion(content, prompt_tokens, completion_tokens, cached)


def error(status: int, message: str = "", code: str | None = None, retry_after: float | None = None) -> Failure:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    return Failure(status, message or f"fake error {status}", code, headers)


class FakeOpenAI:
    """`delay` seconds pass before each answer (a slow or thinking model); once the script is used up,
    `otherwise` answers every request (default: an HTTP 500)."""

    def __init__(self, script: list[Completion | Failure], delay: float = 0.0,
                 otherwise: Completion | Failure | None = None) -> None:
        self.script = list(script)
        self.delay = delay
        self.otherwise = otherwise
        self.asked_at: list[float] = []  # time.time() of each request's arrival
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Completion | Failure:
        with self._lock:
            self.asked_at.append(time.time())
            self.requests.append(body)
            self.headers.append(headers)
            if self.script:
                item = self.script.pop(0)
            else:
                item = self.otherwise or Failure(500, "the fake server's script is used up")
        time.sleep(self.delay)
        return item

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                item = fake._next(body, {k.lower(): v for k, v in self.headers.items()})
                if isinstance(item, Failure):
                    payload = {"error": {"message": item.message, "type": "fake_error", "code": item.code}}
                    return self._send(item.status, payload, item.headers)
                usage = {"prompt_tokens": item.prompt_tokens, "completion_tokens": item.completion_tokens,
                         "total_tokens": item.prompt_tokens + item.completion_tokens}
                if item.cached_tokens:
                    usage["prompt_tokens_details"] = {"cached_tokens": item.cached_tokens}
                self._send(200, {
                    "id": f"chatcmpl-{len(fake.requests)}", "object": "chat.completion", "created": 0,
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": item.content},
                                 "finish_reason": "stop"}],
                    "usage": usage,
                })

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
