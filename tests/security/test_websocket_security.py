"""``/ws/events`` lets in only who it should, for only as long as it should: no session or
a dead one is refused; a page of another site (a foreign ``Origin``) cannot open a socket
with our user's cookie, while an integration with ``?token=`` and no ``Origin`` can;
signing out, and a session ending after the idle time, close the sockets it opened.

Covered elsewhere and not repeated here: an anonymous socket and a bad token are closed
with 4401 (tests/realtime/test_presence.py,
``test_anonymous_socket_is_closed_4401_and_counts_for_nobody``); another department's
events never reach an agent (tests/realtime/test_events.py,
``test_a_customer_message_reaches_its_agent_and_supervisors_not_other_agents``, and
tests/realtime/test_visibility.py for every viewer and event); a user deactivated while
connected is closed within 5 s (tests/realtime/test_visibility.py,
``test_a_deactivated_users_open_socket_is_closed_within_five_seconds``)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import Connection, User
from chatdesk.asgi import application
from chatdesk.core import clock
from chatdesk.realtime.consumers import CLOSE_UNAUTHENTICATED
from tests.support.live import Socket, db, frames_until, frames_until_closed, run

realtime_db = pytest.mark.django_db(transaction=True)

OURS = b"http://localhost"
DENIED = (False, 1000)  # Channels' origin check refuses the handshake itself


def signed_in_browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def cookie_of(client: Client) -> bytes:
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def socket(path: str = "/ws/events", *, origin: bytes | None, cookie: bytes | None = None) -> Any:
    headers = []
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return Socket(application, path, headers=headers)


async def ping(communicator: WebsocketCommunicator) -> None:
    """The socket is open and served: a ping is answered (live events may come first)."""
    await communicator.send_to(text_data=json.dumps({"type": "ping"}))
    received = await frames_until(communicator, lambda got: {"type": "pong"} in got, timeout=10)
    assert received[-1] == {"type": "pong"}


# --- Who may open a socket --------------------------------------------------------------


@realtime_db
def test_a_made_up_or_signed_out_session_is_refused(alice: User) -> None:
    browser = signed_in_browser(alice)
    old_cookie = cookie_of(browser)
    browser.post("/logout/")

    async def scenario() -> None:
        for cookie in (b"sessionid=made-up-session-key", old_cookie):
            connected, code = await socket(origin=OURS, cookie=cookie).connect()
            assert (connected, code) == (False, CLOSE_UNAUTHENTICATED)

    run(scenario)
    assert Connection.objects.count() == 0


@pytest.mark.parametrize(
    "origin",
    [b"https://evil.example", b"http://localhost.evil.example", b"null", b"http://127.0.0.2"],
)
@realtime_db
def test_a_foreign_origin_is_refused_even_with_a_good_session_or_token(
    alice: User, origin: bytes
) -> None:
    cookie = cookie_of(signed_in_browser(alice))
    token = account_services.issue_api_token(user=alice)

    async def scenario() -> None:
        with_session = await socket(origin=origin, cookie=cookie).connect()
        with_token = await socket(f"/ws/events?token={token}", origin=origin).connect()
        assert (with_session, with_token) == (DENIED, DENIED)
        # The same cookie from our own pages is let in.
        ours = socket(origin=OURS, cookie=cookie)
        connected, _ = await ours.connect()
        assert connected
        await ping(ours)
        await ours.disconnect()

    run(scenario)
    assert Connection.objects.count() == 0


@realtime_db
def test_an_integration_with_a_token_and_no_origin_is_let_in(alice: User) -> None:
    """Browsers always send Origin; a client that sends none is not a page of any site,
    and the contract's ``?token=`` clients (scripts, integrations) send none."""
    token = account_services.issue_api_token(user=alice)

    async def scenario() -> None:
        integration = socket(f"/ws/events?token={token}", origin=None)
        connected, code = await integration.connect()
        assert connected, code
        await ping(integration)
        await integration.disconnect()
        # Without a token or session, no Origin is no help.
        anonymous = await socket(origin=None).connect()
        assert anonymous == (False, CLOSE_UNAUTHENTICATED)

    run(scenario)


# --- How long a socket lives ------------------------------------------------------------


@realtime_db
def test_signing_out_closes_that_sessions_sockets_and_no_other(alice: User) -> None:
    office = signed_in_browser(alice)
    laptop = signed_in_browser(alice)

    async def scenario() -> None:
        tabs = [socket(origin=OURS, cookie=cookie_of(office)) for _ in range(2)]
        other = socket(origin=OURS, cookie=cookie_of(laptop))
        for communicator in (*tabs, other):
            connected, code = await communicator.connect()
            assert connected, code

        answer = await db(office.post, "/logout/")
        assert answer.status_code == 302

        for tab in tabs:
            _, code = await frames_until_closed(tab, 5.0)
            assert code == CLOSE_UNAUTHENTICATED
            await tab.disconnect()
        await ping(other)  # the laptop's session was not signed out
        await other.disconnect()

    run(scenario)


@realtime_db
def test_a_socket_ends_with_its_session_after_the_idle_time(
    alice: User, settings: Any, time_machine: Any
) -> None:
    """Only requests keep a session alive (tests/security/test_login.py); the socket of
    a page left alone that long is closed at its next heartbeat."""
    settings.CHATDESK_WS_HEARTBEAT = 0.1
    browser = signed_in_browser(alice)
    token = account_services.issue_api_token(user=alice)

    async def scenario() -> None:
        page = socket(origin=OURS, cookie=cookie_of(browser))
        integration = socket(f"/ws/events?token={token}", origin=None)
        for communicator in (page, integration):
            connected, code = await communicator.connect()
            assert connected, code
        await ping(page)

        time_machine.move_to(clock.now() + timedelta(hours=8, seconds=1))

        _, code = await frames_until_closed(page, 5.0)
        assert code == CLOSE_UNAUTHENTICATED
        await page.disconnect()
        await ping(integration)  # a token has no session to end
        await integration.disconnect()

    run(scenario)
    assert browser.get("/agent/").status_code == 302
