"""A small OpenAI-compatible HTTP server for tests, on 127.0.0.1, with scripted failures."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[dict[str, Any]], tuple[int, Any]]
"""Given the request body, return (HTTP status, JSON body or raw bytes)."""


def completion(text: str, model: str = "fake") -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
        ],
    }


class FakeServer:
    """Records every request body; ``script`` decides each reply (default: echo a caption)."""

    def __init__(self, script: list[Reply] | None = None, delay: float = 0.0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script = list(script or [])
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self.reply_with: Reply | None = None  # replaces the default caption reply when set
        self.models: dict[str, Any] | None = None  # the GET /models listing (None: 404)
        self.local = threading.local()  # .peer: the (host, port) of the request being answered
        self._lock = threading.Lock()

    def reply(self, body: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(body)
            step = self.script.pop(0) if self.script else None
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            if step is None and self.reply_with is not None:
                return self.reply_with(body)
            return step(body) if step else (200, completion(default_text(body)))
        finally:
            with self._lock:
                self.in_flight -= 1


def default_text(body: dict[str, Any]) -> str:
    """Caption replies name the segment they were asked about, so order can be checked."""
    content = body["messages"][-1]["content"]
    first = content[0]["text"] if isinstance(content, list) else content
    return f"caption for: {first}"


@contextmanager
def serve(server: FakeServer) -> Iterator[str]:
    """Run ``server`` on a free loopback port; yield its base URL (…/v1)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            server.local.peer = self.client_address
            status, payload = server.reply(body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):  # the client gave up (timeout tests)
                self.wfile.write(data)

        def do_GET(self) -> None:
            found = self.path.endswith("/models") and server.models is not None
            data = json.dumps(server.models if found else {"error": "not found"}).encode()
            self.send_response(200 if found else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()
