"""Provider secrets (``access_token``, ``app_secret``, ``verify_token``, ``auth_token``)
are written and used, never shown: not by any channel operation of the API, not in the
logs of webhooks, sends and template syncs, not in the server's request log (where
Meta's verify token and a socket's ``?token=`` ride in the URL). Signatures and tokens
are compared in constant time.

The set-up pages are covered by tests/web/test_setup.py
(``test_channel_secrets_never_appear_on_any_setup_page`` and the tests after it)."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.test import Client
from websockets.sync.client import connect as ws_connect

from chatdesk.accounts.models import ApiToken, User
from chatdesk.accounts.queries import hash_token
from chatdesk.api.api import api
from chatdesk.chats.models import Chat, Contact
from chatdesk.chats.services.outbound import Reply
from chatdesk.core import clock
from chatdesk.flows.outbound import send_message
from chatdesk.ops.redact import RedactSecretQueries
from chatdesk.providers.adapters import sms, whatsapp
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.providers.tasks import deliver
from chatdesk.providers.template_sync import sync_templates
from chatdesk.routing.models import Department
from tests.support.fakes import FakeGraph, FakeTwilio, graph_error
from tests.support.processes import Desk, free_port, get, wait_for

pytestmark = pytest.mark.django_db

APP_SECRET = "app-secret-never-shown-41c7"
VERIFY_TOKEN = "verify-token-never-shown-9d02"


# --- The API ----------------------------------------------------------------------------


def channel_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation under /channels, from the OpenAPI schema, so a
    channel operation added later is checked too."""
    schema = api.get_openapi_schema()
    return [
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/channels")
        for method in operations
    ]


def test_no_channel_operation_returns_a_secret(api_as: Any, ada: User, alice: User) -> None:
    secrets = {
        "access_token": "EAAG-api-never-shown-11aa",
        "app_secret": "app-secret-api-never-shown-22bb",
        "verify_token": "verify-api-never-shown-33cc",
        "auth_token": "auth-token-api-never-shown-44dd",
    }
    admin = api_as(ada)
    created = [
        admin.post(
            "/channels",
            {
                "kind": "whatsapp",
                "name": "WhatsApp",
                "config": {"phone_number_id": "106540352242922", **_pick(secrets, "whatsapp")},
            },
        ),
        admin.post(
            "/channels",
            {
                "kind": "sms",
                "name": "SMS",
                "config": {
                    "account_sid": "AC0123456789abcdef0123456789abcdef",
                    "from_number": "+14155552671",
                    **_pick(secrets, "sms"),
                },
            },
        ),
    ]
    assert [answer.status_code for answer in created] == [201, 201]
    answers = list(created)
    operations = channel_operations()
    assert {method for method, _ in operations} >= {"GET", "POST", "PATCH"}
    for method, path in operations:
        for channel in created:
            concrete = path.replace("{channel_id}", str(channel.json()["id"]))
            if method == "GET":
                answers += [admin.get(concrete), api_as(alice).get(concrete)]
            elif method == "PATCH":
                # A rename, and a bad change whose refusal must not echo the secrets.
                answers.append(admin.patch(concrete, {"name": "Renamed"}))
                answers.append(admin.patch(concrete, {"config": {"nonsense": "x"}}))
            elif method != "POST":
                raise AssertionError(f"{method} {path}: add it to this test")
    answers.append(admin.get("/openapi.json"))
    assert len(answers) > len(created)
    for answer in answers:
        assert answer.status_code < 500
        for name, value in secrets.items():
            assert value not in answer.content.decode(), f"{name} in {answer.content!r}"


def _pick(secrets: dict[str, str], kind: str) -> dict[str, str]:
    names = ("auth_token",) if kind == "sms" else ("access_token", "app_secret", "verify_token")
    return {name: secrets[name] for name in names}


# --- The logs ---------------------------------------------------------------------------


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of every logger, from DEBUG up (the HTTP client's own included)."""
    caplog.set_level(logging.DEBUG)
    yield caplog


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts += [record.getMessage(), repr(record.args), record.exc_text or ""]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


@pytest.fixture
def whatsapp_line(sales: Department, fake_graph: FakeGraph) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WhatsApp",
        department=sales,
        config={
            "phone_number_id": fake_graph.phone_number_id,
            "graph_api_url": fake_graph.graph_api_url,
            "waba_id": fake_graph.waba_id,
        },
        secrets={
            "access_token": fake_graph.access_token,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        },
    )


@pytest.fixture
def sms_line(sales: Department, fake_twilio: FakeTwilio) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.SMS,
        name="SMS",
        department=sales,
        config={
            "account_sid": fake_twilio.account_sid,
            "from_number": "+14155550100",
            "api_url": fake_twilio.api_url,
        },
        secrets={"auth_token": fake_twilio.auth_token},
    )


def _reply(channel: Channel, agent: User, phone: str, text: str) -> int:
    contact = Contact.objects.create(phone=phone)
    chat = Chat.objects.create(
        channel=channel,
        contact=contact,
        agent=agent,
        created_at=clock.now(),
        last_inbound_at=clock.now(),
    )
    return send_message(chat_id=chat.pk, reply=Reply(text=text), by=agent).pk


def test_webhooks_sends_and_template_syncs_log_no_secret(
    every_log: pytest.LogCaptureFixture,
    whatsapp_line: Channel,
    sms_line: Channel,
    fake_graph: FakeGraph,
    fake_twilio: FakeTwilio,
    alice: User,
    ada: User,
) -> None:
    secrets = [APP_SECRET, VERIFY_TOKEN, fake_graph.access_token, fake_twilio.auth_token]
    client = Client()
    body = b'{"object": "whatsapp_business_account", "entry": []}'
    # Webhooks: a bad signature (made with a wrong secret), a good one, a wrong and a right
    # verify token, and a Twilio post with a bad signature.
    bad = client.post(
        f"/webhooks/whatsapp/{whatsapp_line.pk}",
        body,
        content_type="application/json",
        headers={whatsapp.SIGNATURE_HEADER: whatsapp.signature_for(body, "not-" + APP_SECRET)},
    )
    good = client.post(
        f"/webhooks/whatsapp/{whatsapp_line.pk}",
        body,
        content_type="application/json",
        headers={whatsapp.SIGNATURE_HEADER: whatsapp.signature_for(body, APP_SECRET)},
    )
    challenge = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    wrong_token = client.get(
        f"/webhooks/whatsapp/{whatsapp_line.pk}",
        {**challenge, "hub.verify_token": "not-" + VERIFY_TOKEN},
    )
    right_token = client.get(
        f"/webhooks/whatsapp/{whatsapp_line.pk}",
        {**challenge, "hub.verify_token": VERIFY_TOKEN},
    )
    bad_sms = client.post(
        f"/webhooks/sms/{sms_line.pk}",
        {"MessageSid": "SM" + "0" * 32, "From": "+27821234567", "Body": "hi"},
        headers={sms.SIGNATURE_HEADER: "c2lnbmF0dXJl"},
    )
    assert [bad.status_code, good.status_code] == [403, 200]
    assert [wrong_token.status_code, right_token.status_code, bad_sms.status_code] == [
        403,
        200,
        403,
    ]
    # Sends: one that goes out on each provider, one Meta refuses for a bad token.
    assert deliver(_reply(whatsapp_line, alice, "+27821230001", "Hello")) == "sent"
    assert deliver(_reply(sms_line, alice, "+27821230002", "Hello")) == "sent"
    fake_graph.queue((401, graph_error("Invalid OAuth access token.", code=190)))
    assert deliver(_reply(whatsapp_line, alice, "+27821230003", "Hello")) == "failed"
    # A template sync.
    assert sync_templates(channel=whatsapp_line, by=ada).created > 0

    logged = _logged(every_log)
    assert "whatsapp" in logged.lower() or "http" in logged.lower(), "nothing was logged"
    for secret in secrets:
        assert secret not in logged


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_server_log_hides_tokens_that_ride_in_urls(desk: Desk, workers: str) -> None:
    """uvicorn logs each request's path with its query string: Meta's webhook check
    carries the verify token there, and an integration's socket its API token. Also with
    several web server processes, each of which sets up its logging anew."""
    made = desk.query(
        f"""
        import json
        from chatdesk.accounts.models import Role
        from chatdesk.accounts.services import create_user, issue_api_token
        from chatdesk.providers.models import Channel, ChannelKind

        channel = Channel.objects.create(
            kind=ChannelKind.WHATSAPP, name="WhatsApp",
            config={{"phone_number_id": "106540352242922"}},
            secrets={{"access_token": "EAAG-x", "app_secret": "{APP_SECRET}",
                      "verify_token": "{VERIFY_TOKEN}"}},
        )
        sam = create_user(username="sam", password=None, role=Role.SUPERVISOR)
        print(json.dumps({{"channel_id": channel.pk,
                          "token": issue_api_token(user=sam, name="test")}}))
        """
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with desk.start(
        "serve", "--port", str(port), "--log-level", "info", "--workers", workers
    ) as server:
        wait_for(lambda: get(f"{base}/healthz"), timeout=30, what="the web server")
        checked = httpx.get(
            f"{base}/webhooks/whatsapp/{made['channel_id']}",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "42",
            },
            timeout=30,
        )
        assert (checked.status_code, checked.text) == (200, "42")
        with ws_connect(f"ws://127.0.0.1:{port}/ws/events?token={made['token']}") as socket:
            socket.send(json.dumps({"type": "ping"}))
            assert json.loads(socket.recv(timeout=10)) == {"type": "pong"}

        def logged_both() -> bool:
            output = server.output()
            return "/webhooks/whatsapp/" in output and "/ws/events" in output

        wait_for(logged_both, timeout=20, what="the server to log both requests")
        output = server.output()
    assert output.count("Started server process") == int(workers)
    assert "hub.verify_token=[redacted]" in output
    assert "token=[redacted]" in output
    assert VERIFY_TOKEN not in output
    assert made["token"] not in output


def test_the_redacting_filter_rewrites_uvicorns_request_lines() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5000", "GET", "/ws/events?since=4&token=cd_abc;x", "1.1", 101),
        None,
    )
    assert RedactSecretQueries().filter(record) is True
    assert record.getMessage() == (
        '10.0.0.1:5000 - "GET /ws/events?since=4&token=[redacted];x HTTP/1.1" 101'
    )


# --- Constant-time comparisons ----------------------------------------------------------


class CompareDigestCalls:
    """Every call of ``hmac.compare_digest`` while installed; it still answers."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[bytes, bytes, bool]] = []
        real = hmac.compare_digest

        def recording(a: Any, b: Any) -> bool:
            answer = real(a, b)
            self.calls.append((a, b, answer))
            return answer

        monkeypatch.setattr(hmac, "compare_digest", recording)


@pytest.fixture
def compare_digest(monkeypatch: pytest.MonkeyPatch) -> CompareDigestCalls:
    return CompareDigestCalls(monkeypatch)


def test_whatsapp_signatures_are_compared_with_compare_digest(
    compare_digest: CompareDigestCalls,
) -> None:
    """Chosen over reading the source: the verification must go through
    ``hmac.compare_digest`` with the full expected signature, and answer what it says."""
    body = b'{"object": "whatsapp_business_account"}'
    right = whatsapp.signature_for(body, APP_SECRET)
    wrong = right[:-1] + ("0" if right[-1] != "0" else "1")

    assert whatsapp.verify_signature(body, right, APP_SECRET) is True
    assert whatsapp.verify_signature(body, wrong, APP_SECRET) is False

    assert [(a, b, answer) for a, b, answer in compare_digest.calls] == [
        (right.encode(), right.encode(), True),
        (wrong.encode(), right.encode(), False),
    ]


def test_twilio_signatures_are_compared_with_compare_digest_for_every_url_form(
    compare_digest: CompareDigestCalls,
) -> None:
    url = "https://desk.example.com/webhooks/sms/1"
    form = {"MessageSid": "SM" + "1" * 32, "Body": "hi"}
    right = sms.signature_for(url, form, "auth-token-1")

    assert sms.verify_signature(url, form, right, "auth-token-1") is True
    calls_for_right = len(compare_digest.calls)
    assert sms.verify_signature(url, form, "bm90IGl0", "auth-token-1") is False

    # The URL as given and with the default port added: both compared each time, so
    # the time taken does not tell which form matched.
    assert calls_for_right == 2
    assert len(compare_digest.calls) == 4
    assert [answer for _, _, answer in compare_digest.calls].count(True) == 1


def test_the_verify_token_is_compared_with_compare_digest(
    compare_digest: CompareDigestCalls, whatsapp_line: Channel
) -> None:
    answer = Client().get(
        f"/webhooks/whatsapp/{whatsapp_line.pk}",
        {"hub.mode": "subscribe", "hub.challenge": "7", "hub.verify_token": "guess"},
    )

    assert answer.status_code == 403
    assert (b"guess", VERIFY_TOKEN.encode(), False) in compare_digest.calls


def test_api_tokens_are_kept_only_as_hashes_and_found_by_hash(
    api_as: Any, token_for: Any, alice: User
) -> None:
    """No comparison of token bytes in Python: the lookup is by the SHA-256 in a unique
    index, and the token itself is stored nowhere."""
    token = token_for(alice)

    row = ApiToken.objects.get(user=alice)
    assert row.key_hash == hash_token(token)
    stored = json.dumps(list(ApiToken.objects.values()), default=str)
    assert token not in stored
    assert (
        api_as(None)
        .client.get("/api/v1/me/presence", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 200
    )
    assert (
        api_as(None)
        .client.get("/api/v1/me/presence", headers={"Authorization": f"Bearer {token[:-1]}x"})
        .status_code
        == 401
    )
