"""Presence from live connections: ``/ws/events`` sockets make a user online, tab by tab;
a dead one stops counting; an agent gone past the grace period, or signed out, has their
open chats sent back to the queue."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect
from websockets.typing import Origin

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import Connection, Presence, User
from chatdesk.asgi import application
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, Contact
from chatdesk.core import clock
from chatdesk.flows import presence as presence_flow
from chatdesk.providers.models import Channel
from chatdesk.realtime.consumers import CLOSE_UNAUTHENTICATED, LiveEventsConsumer
from chatdesk.routing.models import Department
from tests.support.live import Socket
from tests.support.processes import Desk, free_port, get, wait_for

ORIGIN = (b"origin", b"http://localhost")
realtime_db = pytest.mark.django_db(transaction=True)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async scenario from a sync test. The consumer's database calls come back to
    this thread (async_to_sync), so they share the test's database connection."""
    async_to_sync(scenario)()


def socket_with_token(token: str) -> WebsocketCommunicator:
    return Socket(application, f"/ws/events?token={token}", headers=[ORIGIN])


def socket_with_session(user: User) -> WebsocketCommunicator:
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return Socket(application, "/ws/events", headers=[ORIGIN, (b"cookie", cookie)])


async def opened(communicator: WebsocketCommunicator) -> WebsocketCommunicator:
    connected, code = await communicator.connect()
    assert connected, code
    return communicator


@database_sync_to_async
def db(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ORM code from inside a scenario."""
    return func(*args, **kwargs)


def online(user: User) -> bool:
    return bool(api_presence(user)["online"])


def api_presence(user: User) -> dict[str, Any]:
    client = Client()
    client.force_login(user)
    response = client.get("/api/v1/me/presence")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def listed_online(viewer: User, user: User) -> bool:
    client = Client()
    client.force_login(viewer)
    response = client.get(f"/api/v1/users/{user.pk}")
    assert response.status_code == 200, response.content
    return bool(response.json()["online"])


def age_connections(user: User, seconds: float) -> None:
    Connection.objects.filter(user=user).update(
        last_seen_at=clock.now() - timedelta(seconds=seconds)
    )


_phones = iter(range(1, 1_000_000))


def live_chat(channel: Channel, *, agent: User | None, queued: bool = False) -> Chat:
    contact = Contact.objects.create(phone=f"+2782{next(_phones):07d}")
    now = clock.now()
    return Chat.objects.create(
        kind=ChatKind.CHAT,
        status=ChatStatus.OPEN,
        channel=channel,
        contact=contact,
        agent=agent,
        department=channel.department,
        created_at=now,
        queued_at=now if queued else None,
    )


def available(user: User) -> User:
    return presence_flow.set_presence(user=user, status=Presence.AVAILABLE)


# Signing in on the socket


@realtime_db
def test_anonymous_socket_is_closed_4401_and_counts_for_nobody(alice: User) -> None:
    async def scenario() -> None:
        communicator = Socket(application, "/ws/events", headers=[ORIGIN])
        connected, code = await communicator.connect()
        assert (connected, code) == (False, CLOSE_UNAUTHENTICATED)
        bad_token = socket_with_token("cd_not-a-token")
        connected, code = await bad_token.connect()
        assert (connected, code) == (False, CLOSE_UNAUTHENTICATED)

    run(scenario)

    assert Connection.objects.count() == 0


@realtime_db
def test_one_tab_with_a_token_makes_the_user_online(alice: User, sam: User) -> None:
    token = account_services.issue_api_token(user=alice)
    assert online(alice) is False

    async def scenario() -> None:
        tab = await opened(socket_with_token(token))
        assert await db(online, alice) is True
        assert await db(listed_online, sam, alice) is True
        row = await db(Connection.objects.get)
        assert row.user_id == alice.pk
        assert row.instance.endswith(":" + str(os.getpid()))
        await tab.disconnect()

    run(scenario)

    assert online(alice) is False
    assert listed_online(sam, alice) is False
    assert Connection.objects.count() == 0


@realtime_db
def test_tabs_are_counted_one_by_one_and_the_last_close_starts_the_grace(
    alice: User, bob: User
) -> None:
    token = account_services.issue_api_token(user=alice)
    session_socket = socket_with_session(alice)

    async def scenario() -> None:
        first = await opened(socket_with_token(token))
        second = await opened(session_socket)
        assert await db(Connection.objects.filter(user=alice).count) == 2

        await first.disconnect()
        assert await db(online, alice) is True
        fresh = await db(User.objects.get, pk=alice.pk)
        assert fresh.last_seen_at is None, "one tab is still open: no grace period yet"

        before = clock.now()
        await second.disconnect()
        assert await db(online, alice) is False
        gone = await db(User.objects.get, pk=alice.pk)
        assert gone.last_seen_at is not None and gone.last_seen_at >= before

    run(scenario)

    assert Connection.objects.count() == 0
    bob.refresh_from_db()
    assert bob.last_seen_at is None


@realtime_db
def test_a_session_cookie_signs_the_socket_in(bob: User) -> None:
    session_socket = socket_with_session(bob)

    async def scenario() -> None:
        tab = await opened(session_socket)
        assert await db(online, bob) is True
        await tab.disconnect()

    run(scenario)

    assert online(bob) is False


# Heartbeats


@realtime_db
def test_ping_gets_pong_and_refreshes_the_connection(alice: User) -> None:
    token = account_services.issue_api_token(user=alice)

    async def scenario() -> None:
        tab = await opened(socket_with_token(token))
        await db(age_connections, alice, 61)
        assert await db(online, alice) is False, "a row 61 s old is stale"

        await tab.send_json_to({"type": "ping"})
        assert await tab.receive_json_from(timeout=5) == {"type": "pong"}
        assert await db(online, alice) is True
        await tab.disconnect()

    run(scenario)


@realtime_db
def test_any_frame_refreshes_the_connection_and_bad_frames_are_ignored(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LiveEventsConsumer, "seen_at_most_every", 0.0)
    token = account_services.issue_api_token(user=alice)

    async def scenario() -> None:
        tab = await opened(socket_with_token(token))
        for frame in ('{"type": "hello"}', "not json", "[1, 2]"):
            await db(age_connections, alice, 61)
            await tab.send_to(text_data=frame)
            assert await tab.receive_nothing(timeout=0.2)
            assert await db(online, alice) is True, frame
        await tab.disconnect()

    run(scenario)


@realtime_db
def test_frames_other_than_pings_refresh_at_most_once_a_second(alice: User) -> None:
    token = account_services.issue_api_token(user=alice)

    async def scenario() -> None:
        tab = await opened(socket_with_token(token))
        await db(age_connections, alice, 61)
        await tab.send_to(text_data='{"type": "hello"}')
        assert await tab.receive_nothing(timeout=0.2)
        assert await db(online, alice) is False, "just refreshed when it opened"
        await tab.disconnect()

    run(scenario)


@realtime_db
def test_the_server_refreshes_a_live_socket_on_its_own(alice: User, settings: Any) -> None:
    settings.CHATDESK_WS_HEARTBEAT = 0.1
    token = account_services.issue_api_token(user=alice)

    async def scenario() -> None:
        tab = await opened(socket_with_token(token))
        await db(age_connections, alice, 61)
        for _ in range(50):
            if await db(online, alice):
                break
            await asyncio.sleep(0.1)
        assert await db(online, alice) is True

        # Even a row the sweep removed (the process stalled past the stale limit) comes back.
        await db(age_connections, alice, 61)
        await db(presence_flow.expire_presence)
        for _ in range(50):
            if await db(Connection.objects.filter(user=alice).exists):
                break
            await asyncio.sleep(0.1)
        assert await db(online, alice) is True
        await tab.disconnect()

    run(scenario)

    assert Connection.objects.count() == 0


@realtime_db
def test_a_stale_connection_stops_counting_and_the_sweep_removes_it(alice: User, sam: User) -> None:
    token = account_services.issue_api_token(user=alice)

    async def scenario() -> None:
        tab = await opened(socket_with_token(token))
        await db(age_connections, alice, 61)
        assert await db(online, alice) is False
        assert await db(listed_online, sam, alice) is False
        # The socket's own close would normally delete the row; here the sweep does it.
        assert await db(presence_flow.expire_presence) == []
        assert await db(Connection.objects.count) == 0
        gone = await db(User.objects.get, pk=alice.pk)
        assert gone.last_seen_at is not None
        assert gone.last_seen_at <= clock.now() - timedelta(seconds=60), (
            "the grace period counts from the last heartbeat"
        )
        with contextlib.suppress(Exception):
            await tab.disconnect()

    run(scenario)


# Going offline sends open chats back to the queue


@realtime_db
def test_expire_presence_requeues_only_agents_gone_past_the_grace(
    alice: User, bob: User, dave: User, sam: User, sandbox: Channel, settings: Any
) -> None:
    settings.CHATDESK_OFFLINE_GRACE = 120
    long_ago = clock.now() - timedelta(seconds=121)
    lately = clock.now() - timedelta(seconds=30)
    for user in (alice, bob, dave, sam):
        available(user)
    # alice: gone past the grace, holding a chat → requeued.
    alice_chat = live_chat(sandbox, agent=alice)
    User.objects.filter(pk=alice.pk).update(last_seen_at=long_ago)
    # bob: gone, but within the grace → keeps his chat.
    bob_chat = live_chat(sandbox, agent=bob)
    User.objects.filter(pk=bob.pk).update(last_seen_at=lately)
    # dave: gone long ago, but holds no chat → nothing to do.
    User.objects.filter(pk=dave.pk).update(last_seen_at=long_ago)
    # sam: his last close was long ago, but a tab is open again → keeps his chat.
    sam_chat = live_chat(sandbox, agent=sam)
    User.objects.filter(pk=sam.pk).update(last_seen_at=long_ago)
    presence_flow.connection_opened(user=sam, channel_name="sam-tab")

    assert presence_flow.expire_presence() == [alice.pk]

    alice_chat.refresh_from_db()
    assert alice_chat.agent_id != alice.pk
    assert alice_chat.status == ChatStatus.OPEN
    bob_chat.refresh_from_db()
    sam_chat.refresh_from_db()
    assert (bob_chat.agent_id, sam_chat.agent_id) == (bob.pk, sam.pk)
    alice.refresh_from_db()
    assert alice.presence == Presence.AVAILABLE, "the agent's own choice is left alone"
    # Nothing left to hand back: the next round handles nobody.
    assert presence_flow.expire_presence() == []


@realtime_db
def test_a_dead_connection_counts_the_grace_from_its_last_heartbeat(
    alice: User, sandbox: Channel, settings: Any
) -> None:
    settings.CHATDESK_OFFLINE_GRACE = 120
    available(alice)
    chat = live_chat(sandbox, agent=alice)
    presence_flow.connection_opened(user=alice, channel_name="killed-browser")

    age_connections(alice, 100)
    assert presence_flow.expire_presence() == [], "stale, but within the grace"
    assert Connection.objects.count() == 0
    age_seen = User.objects.filter(pk=alice.pk)
    age_seen.update(last_seen_at=clock.now() - timedelta(seconds=121))

    assert presence_flow.expire_presence() == [alice.pk]
    chat.refresh_from_db()
    assert chat.agent_id is None
    assert chat.queued_at is not None


@realtime_db
def test_an_agent_who_never_connected_is_left_alone(alice: User, sandbox: Channel) -> None:
    available(alice)
    chat = live_chat(sandbox, agent=alice)

    assert presence_flow.expire_presence() == []
    chat.refresh_from_db()
    assert chat.agent_id == alice.pk


@realtime_db
def test_signing_out_on_the_web_goes_offline_and_requeues(alice: User, sandbox: Channel) -> None:
    available(alice)
    chat = live_chat(sandbox, agent=alice)
    ticket_contact = Contact.objects.create(phone="+27820000999")
    ticket = Chat.objects.create(
        kind=ChatKind.TICKET,
        ticket_state="assigned",
        channel=sandbox,
        contact=ticket_contact,
        agent=alice,
        created_at=clock.now(),
    )
    browser = Client()
    browser.force_login(alice)

    response = browser.post("/logout/")

    assert response.status_code in (200, 302)
    alice.refresh_from_db()
    assert alice.presence == Presence.OFFLINE
    chat.refresh_from_db()
    assert chat.agent_id is None and chat.queued_at is not None
    ticket.refresh_from_db()
    assert ticket.agent_id == alice.pk, "tickets are worked later; they stay with the agent"


@realtime_db
def test_becoming_available_while_online_takes_waiting_chats(alice: User, sandbox: Channel) -> None:
    waiting = live_chat(sandbox, agent=None, queued=True)
    presence_flow.connection_opened(user=alice, channel_name="alice-tab")
    client = Client()
    client.force_login(alice)

    response = client.put(
        "/api/v1/me/presence", {"status": "available"}, content_type="application/json"
    )

    assert response.json() == {"status": "available", "online": True}
    waiting.refresh_from_db()
    assert waiting.agent_id == alice.pk
    assert waiting.queued_at is None


@realtime_db
def test_becoming_available_while_not_online_takes_nothing(alice: User, sandbox: Channel) -> None:
    waiting = live_chat(sandbox, agent=None, queued=True)

    available(alice)

    waiting.refresh_from_db()
    assert waiting.agent_id is None


@realtime_db
def test_opening_the_first_tab_while_available_takes_waiting_chats(
    alice: User, sandbox: Channel
) -> None:
    available(alice)
    first = live_chat(sandbox, agent=None, queued=True)
    token = account_services.issue_api_token(user=alice)

    async def scenario() -> None:
        tab = await opened(socket_with_token(token))
        await tab.disconnect()

    run(scenario)

    first.refresh_from_db()
    assert first.agent_id == alice.pk


def test_presence_hooks_wait_for_the_commit(
    alice: User,
    sales: Department,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Routing hears of a change only once it is committed. A spy stands in for the
    routing hooks here; what they do is checked by its effects above and in tests/routing."""
    from chatdesk.flows import queues as assignment

    calls: list[tuple[str, int]] = []

    def spy(kind: str) -> Callable[..., None]:
        def hook(*, user: User) -> None:
            calls.append((kind, user.pk))

        return hook

    monkeypatch.setattr(assignment, "agent_became_available", spy("available"))
    monkeypatch.setattr(assignment, "agent_became_unavailable", spy("gone"))

    with django_capture_on_commit_callbacks(execute=False) as first:
        presence_flow.connection_opened(user=alice, channel_name="tab")
        available(alice)
        available(alice)  # no change, no call
    assert calls == []
    for callback in first:  # the routing hook, and the live events' numbering
        callback()
    assert calls == [("available", alice.pk)]

    with django_capture_on_commit_callbacks(execute=True):
        presence_flow.connection_opened(user=alice, channel_name="second-tab")
        presence_flow.set_presence(user=alice, status=Presence.AWAY)
        presence_flow.set_presence(user=alice, status=Presence.AVAILABLE)
        presence_flow.set_presence(user=alice, status=Presence.OFFLINE)
    assert calls == [("available", alice.pk), ("available", alice.pk), ("gone", alice.pk)]


# Over a real server


def _kill(connection: ClientConnection) -> None:
    """Drop the TCP connection without a WebSocket close frame, as a killed browser does."""
    connection.socket.shutdown(socket.SHUT_RDWR)


def test_real_sockets_over_uvicorn(desk: Desk) -> None:
    made = desk.run("createuser", "alice", "--role", "agent")
    assert made.returncode == 0, made.stderr
    token = desk.run("token", "alice").stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ws_url = f"ws://127.0.0.1:{port}/ws/events?token={token}"
    auth = {"Authorization": f"Bearer {token}"}
    origin = Origin(base)

    def presence() -> dict[str, Any]:
        response = get(f"{base}/api/v1/me/presence", headers=auth)
        assert response is not None and response.status_code == 200
        data: dict[str, Any] = response.json()
        return data

    def connections() -> int:
        count: int = desk.query(
            "from chatdesk.accounts.models import Connection\nprint(Connection.objects.count())"
        )
        return count

    with desk.start("serve", "--port", str(port)) as server:
        wait_for(lambda: get(f"{base}/healthz"), timeout=30, what="the web server")
        assert presence()["online"] is False

        with (
            ws_connect(ws_url, origin=origin) as first,
            ws_connect(ws_url, origin=origin) as second,
        ):
            second.send('{"type": "ping"}')
            assert second.recv(timeout=10) == '{"type": "pong"}'
            assert connections() == 2
            assert presence() == {"status": "offline", "online": True}

            _kill(first)
            wait_for(lambda: connections() == 1, timeout=20, what="the killed socket's row to go")
            assert presence()["online"] is True

            second.close()
            wait_for(lambda: not presence()["online"], timeout=20, what="alice to be offline")
            assert connections() == 0
        assert "Traceback" not in server.output(), server.output()


# The worker's sweeper


def test_the_workers_sweeper_runs_every_sweep_even_when_one_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chatdesk.ops import sweeper as sweeps
    from chatdesk.ops.management.commands import worker

    rounds: list[str] = []
    done = threading.Event()

    def broken_outbox() -> None:
        rounds.append("outbox")
        raise RuntimeError("database hiccup")

    def presence() -> list[int]:
        rounds.append("presence")
        if rounds.count("presence") >= 2:
            done.set()
        return []

    monkeypatch.setattr(
        sweeps,
        "registered",
        lambda: (sweeps.Sweep("outbox", broken_outbox), sweeps.Sweep("presence", presence)),
    )
    stop = threading.Event()
    sweeper = threading.Thread(target=worker._sweep_forever, args=(stop, 0.01), daemon=True)
    sweeper.start()
    try:
        assert done.wait(timeout=10)
    finally:
        stop.set()
        sweeper.join(timeout=10)
    assert not sweeper.is_alive()
    assert rounds[:4] == ["outbox", "presence", "outbox", "presence"]


def test_the_worker_sweeps_outbox_presence_inactivity_unanswered_and_live_events() -> None:
    from chatdesk.chats import counts as chat_counts
    from chatdesk.flows.lifecycle import close_inactive_chats
    from chatdesk.flows.presence import expire_presence
    from chatdesk.flows.queues import reassign_unanswered
    from chatdesk.ops import sweeper as sweeps
    from chatdesk.providers.tasks import sweep_outbox
    from chatdesk.realtime.sequencer import prune_old_events, sequence_stragglers

    assert [sweep.run for sweep in sweeps.registered()] == [
        sweep_outbox,
        chat_counts.compact,
        expire_presence,
        close_inactive_chats,
        reassign_unanswered,
        sequence_stragglers,
        prune_old_events,
    ]
