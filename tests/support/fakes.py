"""Fake provider servers on loopback: real HTTP, for tests of anything that calls Meta or
Twilio.

``FakeGraph`` plays Meta's Graph API (send a WhatsApp message, list message templates);
``FakeTwilio`` plays Twilio's Messages resource. Each runs a ``ThreadingHTTPServer`` on
``127.0.0.1`` and a free port in a background thread, records every request, and answers
the way the provider documents, unless a test scripts the next answers::

    with FakeGraph() as graph:
        graph.queue((500, {"error": {...}}), (429, {...}, {"Retry-After": "2"}))
        graph.delay(2.0)            # the next answer comes after two seconds
        ...
        assert graph.last.json["to"] == "27821234567"

Scripted answers are used first-in, first-out, one per request whatever its path, after
the credentials are checked (a request with the wrong credentials gets the provider's
authentication error and does not use up a scripted answer). With nothing scripted, the
request succeeds.

The pytest fixtures ``fake_graph`` and ``fake_twilio`` live in ``tests/support/fakes_plugin.py``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import json
import re
import secrets
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

GRAPH_VERSION = "v21.0"
GRAPH_ACCESS_TOKEN = "EAAG-test-access-token"
GRAPH_PHONE_NUMBER_ID = "106540352242922"
GRAPH_WABA_ID = "102290129340398"

TWILIO_API_VERSION = "2010-04-01"
TWILIO_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TWILIO_AUTH_TOKEN = "twilio-test-auth-token"
TWILIO_FROM_NUMBER = "+14155550100"


@dataclass(frozen=True)
class Recorded:
    """One request as the fake server received it."""

    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: httpx.Headers  # case-insensitive
    raw: bytes
    json: Any = None  # the parsed body of a JSON request
    form: dict[str, str] = field(default_factory=dict)  # the parsed body of a form request

    @property
    def body(self) -> Any:
        """The parsed body: JSON for a JSON request, the form fields for a form one."""
        return self.json if self.json is not None else self.form

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("Authorization", "")
        return value[len("Bearer ") :] if value.startswith("Bearer ") else None

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        value = self.headers.get("Authorization", "")
        if not value.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(value[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password


@dataclass(frozen=True)
class Reply:
    """A scripted answer. ``body`` may be a dict or list (sent as JSON), text or bytes;
    ``None`` means the fake's normal success body, with this status. ``delay`` holds the
    answer back that many seconds (to make a client time out)."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


ReplySpec = Reply | tuple[int, Any] | tuple[int, Any, Mapping[str, str]]


def _as_reply(spec: ReplySpec) -> Reply:
    if isinstance(spec, Reply):
        return spec
    if len(spec) == 2:
        return Reply(status=spec[0], body=spec[1])
    return Reply(status=spec[0], body=spec[1], headers=dict(spec[2]))


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many senders at once must not find the backlog full
    fake: FakeProvider

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timed out) while we were holding the answer back.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        self.server.fake._handle(self)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_DELETE = _serve


class FakeProvider:
    """The machinery both fakes share: the server thread, the record, the script."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        self._issued: list[str] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes answers that are being held back
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first.")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The server's base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    # -- the record ---------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def last(self) -> Recorded:
        with self._lock:
            if not self._requests:
                raise AssertionError(f"{type(self).__name__} has received no request.")
            return self._requests[-1]

    @property
    def issued(self) -> list[str]:
        """The provider ids of the messages accepted so far, oldest first (a copy)."""
        with self._lock:
            return list(self._issued)

    def _issue(self, provider_id: str) -> str:
        with self._lock:
            self._issued.append(provider_id)
        return provider_id

    def clear(self) -> None:
        """Forget the requests, the issued ids and the scripted answers."""
        with self._lock:
            self._requests.clear()
            self._issued.clear()
            self._script.clear()

    # -- the script ---------------------------------------------------------------------

    def queue(self, *replies: ReplySpec) -> None:
        """Answer the next requests with these, in order: ``Reply(...)``,
        ``(status, body)`` or ``(status, body, headers)``."""
        with self._lock:
            self._script.extend(_as_reply(r) for r in replies)

    def reply(
        self,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        delay: float = 0.0,
    ) -> None:
        self.queue(Reply(status=status, body=body, headers=dict(headers or {}), delay=delay))

    def delay(self, seconds: float, *, status: int = 200, body: Any = None) -> None:
        """Hold the next answer back (by default a success) for ``seconds``."""
        self.queue(Reply(status=status, body=body, delay=seconds))

    @property
    def pending(self) -> int:
        """Scripted answers not used yet."""
        with self._lock:
            return len(self._script)

    # -- serving ------------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = httpx.Headers(list(handler.headers.items()))
        content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
        parsed_json: Any = None
        form: dict[str, str] = {}
        if content_type == "application/json" and raw:
            with contextlib.suppress(ValueError):
                parsed_json = json.loads(raw)
        elif content_type == "application/x-www-form-urlencoded" and raw:
            form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        request = Recorded(
            method=handler.command,
            path=split.path,
            query=query,
            headers=headers,
            raw=raw,
            json=parsed_json,
            form=form,
        )
        with self._lock:
            self._requests.append(request)
        answer, hold = self._answer(request)
        if hold > 0 and self._stopping.wait(hold):
            handler.close_connection = True
            return  # the server is stopping: nobody waits for this answer any more
        self._write(handler, answer)

    def _answer(self, request: Recorded) -> tuple[_Answer, float]:
        refused = self.authenticate(request)
        if refused is not None:
            return refused, 0.0
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        if scripted is None:
            return self.route(request), 0.0
        if scripted.body is None:
            body = self.route(request).body if scripted.status < 400 else None
            if body is None:
                body = self.error_body(scripted.status)
            return _Answer(scripted.status, body, dict(scripted.headers)), scripted.delay
        return _Answer(scripted.status, scripted.body, dict(scripted.headers)), scripted.delay

    def _write(self, handler: _Handler, answer: _Answer) -> None:
        body = answer.body
        headers = dict(answer.headers)
        if isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        try:
            handler.send_response(answer.status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            handler.wfile.flush()
        except OSError:
            pass  # the client hung up

    # -- what each provider overrides ---------------------------------------------------

    def authenticate(self, request: Recorded) -> _Answer | None:
        """The provider's answer to missing or wrong credentials; None when they're fine."""
        return None

    def route(self, request: Recorded) -> _Answer:
        return _Answer(404, {"detail": f"No route for {request.method} {request.path}"})

    def error_body(self, status: int) -> Any:
        """The provider's body for a scripted error status given without a body."""
        return {"detail": f"HTTP {status}"}


# -- Meta's Graph API ------------------------------------------------------------------------

_GRAPH_MESSAGES = re.compile(r"^/(v\d+\.\d+)/([^/]+)/messages$")
_GRAPH_TEMPLATES = re.compile(r"^/(v\d+\.\d+)/([^/]+)/message_templates$")
_GRAPH_OBJECT = re.compile(r"^/(v\d+\.\d+)/([^/]+)$")
_MESSAGE_TYPES = frozenset(
    {
        "text",
        "template",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "reaction",
    }
)


def graph_error(
    message: str,
    *,
    code: int,
    type: str = "OAuthException",
    details: str | None = None,
    subcode: int | None = None,
) -> dict[str, Any]:
    """An error body as the Graph API returns it."""
    error: dict[str, Any] = {"message": message, "type": type, "code": code}
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
    return {"error": error}


def default_templates() -> list[dict[str, Any]]:
    return [
        {
            "name": "order_update",
            "parameter_format": "POSITIONAL",
            "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way."}],
            "language": "en_US",
            "status": "APPROVED",
            "category": "UTILITY",
            "id": "1689556908129832",
        },
        {
            "name": "follow_up",
            "parameter_format": "POSITIONAL",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Chat Desk"},
                {"type": "BODY", "text": "Hi {{1}}, can we help with anything else?"},
                {"type": "FOOTER", "text": "Reply STOP to opt out"},
            ],
            "language": "en_US",
            "status": "APPROVED",
            "category": "UTILITY",
            "id": "1045913372743519",
        },
        {
            "name": "spring_sale",
            "parameter_format": "POSITIONAL",
            "components": [{"type": "BODY", "text": "Hi {{1}}, 20% off everything this week!"}],
            "language": "en_US",
            "status": "PENDING",
            "category": "MARKETING",
            "id": "3325916254199307",
        },
    ]


class FakeGraph(FakeProvider):
    """Meta's Graph API for WhatsApp: ``POST /{version}/{phone_number_id}/messages``,
    ``GET /{version}/{waba_id}/message_templates`` (paged as Meta pages it) and
    ``GET /{version}/{phone_number_id}`` (the phone number object)."""

    def __init__(
        self,
        *,
        access_token: str = GRAPH_ACCESS_TOKEN,
        phone_number_id: str = GRAPH_PHONE_NUMBER_ID,
        waba_id: str = GRAPH_WABA_ID,
        templates: Iterable[dict[str, Any]] | None = None,
        page_size: int = 25,
    ) -> None:
        super().__init__()
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.templates: list[dict[str, Any]] = list(
            templates if templates is not None else default_templates()
        )
        self.page_size = page_size  # the most templates one page holds, whatever is asked
        self.display_phone_number = "+1 555-010-0123"
        self.verified_name = "Chat Desk Test"
        self._ids = itertools.count(1)

    @property
    def graph_api_url(self) -> str:
        """What a channel's ``graph_api_url`` should be to send here."""
        return f"{self.url}/{GRAPH_VERSION}"

    @property
    def sent(self) -> list[dict[str, Any]]:
        """The JSON bodies of every message send, oldest first."""
        return [
            r.json
            for r in self.requests
            if r.method == "POST" and _GRAPH_MESSAGES.match(r.path) and isinstance(r.json, dict)
        ]

    def new_message_id(self) -> str:
        raw = f"{self.phone_number_id}-{next(self._ids)}-{uuid.uuid4().hex}".encode()
        return "wamid." + base64.b64encode(raw).decode()

    def authenticate(self, request: Recorded) -> _Answer | None:
        if "Authorization" not in request.headers:
            return _Answer(
                401,
                graph_error(
                    "An active access token must be used to query information about the "
                    "current user.",
                    code=2500,
                ),
                {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'},
            )
        if request.bearer != self.access_token:
            return _Answer(
                401,
                graph_error("Invalid OAuth access token - Cannot parse access token", code=190),
                {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'},
            )
        return None

    def route(self, request: Recorded) -> _Answer:
        if request.method == "POST" and (match := _GRAPH_MESSAGES.match(request.path)):
            return self._send(request, match.group(2))
        if request.method == "GET" and (match := _GRAPH_TEMPLATES.match(request.path)):
            return self._templates(request, match.group(1), match.group(2))
        if request.method == "GET" and (match := _GRAPH_OBJECT.match(request.path)):
            return self._phone_number(request, match.group(2))
        return _Answer(
            400,
            graph_error(
                f"Unknown path components: {request.path}", code=2500, type="OAuthException"
            ),
        )

    def error_body(self, status: int) -> Any:
        if status == 429:
            return graph_error(
                "(#130429) Rate limit hit",
                code=130429,
                details="Cloud API message throughput has been reached.",
            )
        if status >= 500:
            return graph_error(
                "An unexpected error has occurred. Please retry your request later.",
                code=2,
            )
        return graph_error("(#100) Invalid parameter", code=100)

    def _unknown_object(self, object_id: str, method: str) -> _Answer:
        return _Answer(
            400,
            graph_error(
                f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not "
                "exist, cannot be loaded due to missing permissions, or does not support this "
                "operation.",
                code=100,
                type="GraphMethodException",
                subcode=33,
            ),
        )

    def _invalid(self, message: str) -> _Answer:
        return _Answer(400, graph_error(f"(#100) {message}", code=100, details=message))

    def _send(self, request: Recorded, phone_number_id: str) -> _Answer:
        if phone_number_id != self.phone_number_id:
            return self._unknown_object(phone_number_id, "post")
        body = request.json
        if not isinstance(body, dict):
            return self._invalid("The request body must be JSON.")
        if body.get("messaging_product") != "whatsapp":
            return self._invalid("The parameter messaging_product is required.")
        # A user known only by their business-scoped user id is addressed by "recipient".
        to, recipient = body.get("to"), body.get("recipient")
        if not (isinstance(to, str) and to) and not (isinstance(recipient, str) and recipient):
            return self._invalid("The parameter to is required.")
        kind = body.get("type", "text")
        if kind not in _MESSAGE_TYPES:
            return self._invalid(f"Param type must be one of {sorted(_MESSAGE_TYPES)}.")
        if not isinstance(body.get(kind), dict):
            return self._invalid(f"The parameter {kind} is required.")
        if kind == "text" and not body["text"].get("body"):
            return self._invalid("The parameter text['body'] is required.")
        if kind == "template":
            template = body["template"]
            language = template.get("language")
            if not template.get("name") or not isinstance(language, dict):
                return self._invalid("The parameters template name and language are required.")
        message: dict[str, Any] = {"id": self._issue(self.new_message_id())}
        if kind == "template":
            message["message_status"] = "accepted"
        return _Answer(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [
                    {"input": to, "wa_id": to.lstrip("+")}
                    if isinstance(to, str) and to
                    else {"input": recipient, "user_id": recipient}
                ],
                "messages": [message],
            },
        )

    def _phone_number(self, request: Recorded, object_id: str) -> _Answer:
        if object_id != self.phone_number_id:
            return self._unknown_object(object_id, "get")
        number = {
            "verified_name": self.verified_name,
            "code_verification_status": "VERIFIED",
            "display_phone_number": self.display_phone_number,
            "quality_rating": "GREEN",
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
            "id": self.phone_number_id,
        }
        wanted = [f for f in request.query.get("fields", "").split(",") if f]
        return _Answer(
            200, {k: v for k, v in number.items() if not wanted or k in wanted or k == "id"}
        )

    def _templates(self, request: Recorded, version: str, waba_id: str) -> _Answer:
        if waba_id != self.waba_id:
            return self._unknown_object(waba_id, "get")
        try:
            asked = int(request.query.get("limit") or self.page_size)
        except ValueError:
            return self._invalid("Param limit must be a number.")
        limit = max(1, min(asked, self.page_size))  # page_size: the most one page holds
        start = _cursor_index(request.query.get("after", ""))
        if start is None:
            return self._invalid("Param after is not a valid cursor.")
        templates = list(self.templates)
        page = templates[start : start + limit]
        wanted = [f for f in request.query.get("fields", "").split(",") if f]
        data = [
            {k: v for k, v in t.items() if not wanted or k in wanted or k == "id"} for t in page
        ]
        payload: dict[str, Any] = {"data": data}
        if page:
            payload["paging"] = {
                "cursors": {
                    "before": _cursor(start),
                    "after": _cursor(start + len(page) - 1),
                }
            }
            if start + len(page) < len(templates):
                query = {k: v for k, v in request.query.items() if k not in {"after", "before"}}
                query["limit"] = str(asked)
                query["after"] = _cursor(start + len(page) - 1)
                payload["paging"]["next"] = (
                    f"{self.url}/{version}/{waba_id}/message_templates?{urlencode(query)}"
                )
        return _Answer(200, payload)


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"template:{index}".encode()).decode()


def _cursor_index(cursor: str) -> int | None:
    """Where the page after ``cursor`` starts; 0 without a cursor."""
    if not cursor:
        return 0
    try:
        prefix, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if prefix != "template" or not number.isdigit():
        return None
    return int(number) + 1


# -- Twilio --------------------------------------------------------------------------------

_TWILIO_MESSAGES = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
_TWILIO_ACCOUNT = re.compile(r"^/2010-04-01/Accounts/([^/]+)\.json$")


def twilio_error(code: int, message: str, status: int = 400) -> dict[str, Any]:
    """An error body as Twilio's REST API returns it."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def twilio_sid(prefix: str) -> str:
    """A Twilio id: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


class FakeTwilio(FakeProvider):
    """Twilio's Messages resource: ``POST /2010-04-01/Accounts/{sid}/Messages.json`` with
    HTTP basic auth (account SID, auth token) and a form body; and the Account resource,
    ``GET /2010-04-01/Accounts/{sid}.json``."""

    def __init__(
        self,
        *,
        account_sid: str = TWILIO_ACCOUNT_SID,
        auth_token: str = TWILIO_AUTH_TOKEN,
        from_number: str = TWILIO_FROM_NUMBER,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number  # the number a test channel sends from
        self.account_status = "active"

    @property
    def api_url(self) -> str:
        """What a channel's ``api_url`` should be to send here."""
        return self.url

    @property
    def sent(self) -> list[dict[str, str]]:
        """The form fields of every message create, oldest first."""
        return [
            r.form for r in self.requests if r.method == "POST" and _TWILIO_MESSAGES.match(r.path)
        ]

    def error_body(self, status: int) -> Any:
        if status == 429:
            return twilio_error(20429, "Too Many Requests", status=429)
        if status >= 500:
            return twilio_error(20500, "Internal Server Error", status=status)
        return twilio_error(21211, "Invalid 'To' Phone Number", status=status)

    def authenticate(self, request: Recorded) -> _Answer | None:
        if request.basic_auth != (self.account_sid, self.auth_token):
            return _Answer(
                401,
                twilio_error(20003, "Authenticate", status=401),
                {"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
        return None

    def route(self, request: Recorded) -> _Answer:
        account = _TWILIO_ACCOUNT.match(request.path)
        if account is not None and request.method == "GET":
            return self._account(account.group(1))
        match = _TWILIO_MESSAGES.match(request.path)
        if match is None:
            return _Answer(
                404,
                twilio_error(
                    20404, f"The requested resource {request.path} was not found", status=404
                ),
            )
        if request.method != "POST":
            return _Answer(405, twilio_error(20004, "Method not allowed", status=405))
        if match.group(1) != self.account_sid:
            return _Answer(
                404,
                twilio_error(
                    20404, f"The requested resource {request.path} was not found", status=404
                ),
            )
        return self._create(request)

    def _account(self, sid: str) -> _Answer:
        if sid != self.account_sid:
            return _Answer(
                404,
                twilio_error(
                    20404,
                    f"The requested resource /2010-04-01/Accounts/{sid}.json was not found",
                    status=404,
                ),
            )
        now = formatdate(time.time(), usegmt=True)
        uri = f"/{TWILIO_API_VERSION}/Accounts/{sid}"
        return _Answer(
            200,
            {
                "auth_token": self.auth_token,
                "date_created": now,
                "date_updated": now,
                "friendly_name": "Chat Desk Test",
                "owner_account_sid": sid,
                "sid": sid,
                "status": self.account_status,
                "subresource_uris": {"messages": f"{uri}/Messages.json"},
                "type": "Full",
                "uri": f"{uri}.json",
            },
        )

    def _create(self, request: Recorded) -> _Answer:
        form = request.form
        if not form.get("To"):
            return _Answer(400, twilio_error(21604, "A 'To' phone number is required."))
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return _Answer(400, twilio_error(21603, "A 'From' phone number is required."))
        if not form.get("Body") and not form.get("MediaUrl"):
            return _Answer(400, twilio_error(21602, "Message body is required."))
        callback = form.get("StatusCallback")
        if callback and not callback.startswith(("http://", "https://")):
            return _Answer(400, twilio_error(21609, "Invalid StatusCallback"))
        sid = self._issue(twilio_sid("SM"))
        now = formatdate(time.time(), usegmt=True)
        resource_uri = f"/{TWILIO_API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return _Answer(
            201,
            {
                "account_sid": self.account_sid,
                "api_version": TWILIO_API_VERSION,
                "body": form.get("Body", ""),
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "num_media": "0",
                "num_segments": "1",
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "queued",
                "subresource_uris": {"media": f"{resource_uri}/Media.json"},
                "to": form["To"],
                "uri": f"{resource_uri}.json",
            },
        )
