"""A small stand-in for Meta's Graph API, for the outbound benchmark: accepts
``POST /{version}/{phone_number_id}/messages`` with the bearer token, answers as Meta does
(``{"messages": [{"id": "wamid..."}]}``), and records when each of our references
(``biz_opaque_callback_data``) arrived, per phone number id."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

SEND = re.compile(r"^/v\d+\.\d+/([^/]+)/messages$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    graph: FakeGraph


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes: with Nagle's algorithm on, the body
    # would wait for the client's delayed ACK (tens of milliseconds) on a kept-alive
    # connection, and the benchmark would measure that instead of the desk.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, body = self.server.graph.receive(
            self.path, self.headers.get("Authorization", ""), raw
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeGraph:
    def __init__(self, access_token: str = "bench-access-token") -> None:
        self.access_token = access_token
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        # phone_number_id -> [(monotonic seconds, reference)]
        self.received: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self._server: _Server | None = None

    def receive(self, path: str, authorization: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        at = time.monotonic()
        match = SEND.match(path.split("?")[0])
        if match is None:
            return 400, {"error": {"message": f"Unknown path components: {path}", "code": 2500}}
        if authorization != f"Bearer {self.access_token}":
            return 401, {"error": {"message": "Invalid OAuth access token", "code": 190}}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"error": {"message": "(#100) The request body must be JSON", "code": 100}}
        reference = str(body.get("biz_opaque_callback_data", ""))
        with self._lock:
            self.received[match.group(1)].append((at, reference))
            number = next(self._ids)
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body.get("to"), "wa_id": str(body.get("to", "")).lstrip("+")}],
            "messages": [{"id": f"wamid.bench{number:08d}"}],
        }

    def arrivals(self, phone_number_id: str) -> list[tuple[float, str]]:
        with self._lock:
            return list(self.received.get(phone_number_id, []))

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v21.0"

    def __enter__(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.graph = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
