"""Every live event type, end to end: a service publishes it after its commit with the
object as the REST API shows it, and ``/ws/events`` delivers it, in ``seq`` order, to
exactly those who may see it (CONTRACT.md, "Live events"). Each test has a viewer who must
receive the event and one who must not. Last, the worker's sweeps of the log: numbering
what a dead process left behind, and forgetting what is past the retention.

Who receives what is read from ``capture_live_events`` (the hub's rule, applied to the
log, without sockets); the presence and sweep tests here still go through sockets.
Whether the live rule and the replay rule agree, and what a change to a connected user
does, is in test_visibility.py."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import time_machine

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Message, Notification
from chatdesk.chats.services.inbound import apply_status
from chatdesk.core import clock
from chatdesk.providers.base import StatusUpdate
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.providers.tasks import deliver
from chatdesk.providers.tasks import sweep_outbox as recover_outbox
from chatdesk.realtime import log as live_events
from chatdesk.realtime import sequencer
from chatdesk.realtime.models import LiveEvent, LiveEventType
from chatdesk.routing.models import Department
from chatdesk.routing.services import Interval, set_business_hours
from tests.support.capture import capture_live_events
from tests.support.fakes import FakeGraph, graph_error
from tests.support.live import (
    ApiAs,
    Frame,
    Online,
    assert_in_seq_order,
    chat_frames,
    connect,
    connect_all,
    customer_writes,
    db,
    disconnect_all,
    frames,
    frames_until,
    nothing,
    phone,
    run,
    types,
)
from tests.support.personas import ApiClient

realtime_db = pytest.mark.django_db(transaction=True)


# --- Helpers ------------------------------------------------------------------------------


def when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _to_the_millisecond(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(microsecond=value.microsecond // 1000 * 1000)


def assert_as_the_api_shows(
    data: dict[str, Any], shown: dict[str, Any], *, every_field: bool = True
) -> None:
    """An event's ``data`` carries the REST API's fields with the same values (times
    compared as instants to the millisecond: the API writes ``...T10:00:00.123Z`` where
    the event has ``...T10:00:00.123456+00:00``). ``every_field``: the event has all the
    API's fields; a chat's events lack ``channel_kind``, ``window_open`` and
    ``window_expires_at``, so those tests compare only the fields both have."""
    if every_field:
        assert set(shown) <= set(data), set(shown) - set(data)
    for key, value in data.items():
        if key not in shown:
            continue
        if key.endswith("_at"):
            assert _to_the_millisecond(when(value)) == _to_the_millisecond(when(shown[key])), key
        else:
            assert value == shown[key], key


def api_get(client: ApiClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json()


def api_message(client: ApiClient, chat_id: int, message_id: int) -> dict[str, Any]:
    page = api_get(client, f"/chats/{chat_id}/messages")
    return next(item for item in page["items"] if item["id"] == message_id)


def close_the_desk() -> None:
    """Business hours on one day that is not today: out of hours now."""
    closed_day = (clock.now().weekday() + 3) % 7
    set_business_hours(
        department=None,
        timezone="UTC",
        weekly=[Interval(day=closed_day, start=time(9), end=time(10))],
        exceptions=[],
        by=None,
    )


@pytest.fixture
def whatsapp(sales: Department, fake_graph: FakeGraph) -> Channel:
    """A WhatsApp channel of Sales that sends to the fake Graph API on loopback."""
    return Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WA",
        department=sales,
        config={
            "phone_number_id": fake_graph.phone_number_id,
            "graph_api_url": fake_graph.graph_api_url,
        },
        secrets={
            "access_token": fake_graph.access_token,
            "app_secret": "meta-app-secret",
            "verify_token": "verify-me",
        },
    )


# --- chat.created, chat.assigned (transfer), notification.created -------------------------


@realtime_db
def test_a_transfer_tells_both_agents_and_notifies_the_new_one_with_the_note(
    sandbox: Channel,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    online: Online,
    api_as: ApiAs,
) -> None:
    online(alice)
    online(dave)
    as_sam, api_as_bob = api_as(sam), api_as(bob)

    async def scenario() -> None:
        to_alice, to_bob, to_dave, to_sam = await db(capture_live_events, alice, bob, dave, sam)
        chat_id = (await db(customer_writes, sandbox, phone(1), "Where is my parcel?")).chat_id
        routed = await chat_frames(to_alice, 3)
        assert types(routed) == ["chat.created", "message.created", "chat.assigned"]
        created = routed[0]
        assert created["chat_id"] == chat_id
        assert created["data"]["agent_id"] == alice.pk  # the chat as committed: routed
        assert created["data"]["kind"] == "chat" and created["data"]["status"] == "open"
        shown = await db(api_get, as_sam, f"/chats/{chat_id}")
        assert_as_the_api_shows(created["data"], shown, every_field=False)
        assert await chat_frames(to_sam, 3) == routed

        await db(online, bob)
        response = await db(
            as_sam.post, f"/chats/{chat_id}/assign", {"agent_id": bob.pk, "note": "VIP, be kind"}
        )
        assert response.status_code == 200, response.content

        by_bob = await chat_frames(to_bob, 2)
        assert types(by_bob) == ["chat.assigned", "notification.created"]
        assigned, notified = by_bob
        assert assigned["chat_id"] == chat_id
        data = assigned["data"]
        assert (data["agent_id"], data["by_id"], data["transfer"], data["note"]) == (
            bob.pk,
            sam.pk,
            True,
            "VIP, be kind",
        )
        assert_as_the_api_shows(data, response.json(), every_field=False)
        notification = await db(Notification.objects.get, recipient=bob, chat_id=chat_id)
        assert notified["chat_id"] == chat_id
        assert notified["data"]["id"] == notification.pk
        assert (notified["data"]["kind"], notified["data"]["chat_id"]) == ("transferred", chat_id)
        assert notified["data"]["read_at"] is None
        assert (notified["data"]["actor_id"], notified["data"]["note"]) == (sam.pk, "VIP, be kind")
        assert notified["seq"] == assigned["seq"] + 1
        listed = await db(api_get, api_as_bob, "/notifications")
        assert_as_the_api_shows(
            notified["data"], next(n for n in listed if n["id"] == notification.pk)
        )

        # Alice learns the chat left her, and her bell says where it went (with the note);
        # sam sees the move but neither notification.
        by_alice = await chat_frames(to_alice, 2)
        assert by_alice[0] == assigned
        told = by_alice[1]
        assert told["type"] == "notification.created"
        assert (told["data"]["kind"], told["data"]["actor_id"], told["data"]["note"]) == (
            "reassigned",
            sam.pk,
            "VIP, be kind",
        )
        assert await chat_frames(to_sam, 1) == [assigned]

        # From now on the chat is bob's: alice hears nothing more of it.
        await db(customer_writes, sandbox, phone(1), "Hello again")
        later = await chat_frames(to_bob, 1)
        assert types(later) == ["message.created"]
        assert later[0]["data"]["text"] == "Hello again"
        assert await chat_frames(to_sam, 1) == later
        await nothing(to_alice)
        await nothing(to_dave)
        await disconnect_all(to_alice, to_bob, to_dave, to_sam)

    run(scenario)
    row = LiveEvent.objects.get(type=LiveEventType.CHAT_ASSIGNED, data__note="VIP, be kind")
    assert (row.agent_id, row.previous_agent_id, row.user_id) == (bob.pk, alice.pk, None)


@realtime_db
def test_an_agent_going_offline_tells_them_the_chat_left_and_its_next_agent_only_of_theirs(
    sandbox: Channel,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    online: Online,
    api_as: ApiAs,
) -> None:
    online(alice)
    as_alice = api_as(alice)

    async def scenario() -> None:
        to_alice, to_bob, to_dave, to_sam = await db(capture_live_events, alice, bob, dave, sam)
        chat_id = (await db(customer_writes, sandbox, phone(2), "Hi")).chat_id
        await chat_frames(to_alice, 3)
        await chat_frames(to_sam, 3)
        await db(online, bob)

        response = await db(as_alice.put, "/me/presence", {"status": "offline"})
        assert response.status_code == 200, response.content

        requeued, handed = await chat_frames(to_sam, 2)
        assert (requeued["type"], requeued["chat_id"]) == ("chat.assigned", chat_id)
        assert requeued["data"]["agent_id"] is None
        assert requeued["data"]["reason"] == "agent_offline"
        assert requeued["data"]["by_id"] is None
        assert (handed["type"], handed["data"]["agent_id"]) == ("chat.assigned", bob.pk)
        assert handed["data"]["from_queue"] is True
        # Alice sees it leave her; bob sees it arrive, not the moment it waited unowned.
        assert await chat_frames(to_alice, 1) == [requeued]
        assert await chat_frames(to_bob, 1) == [handed]
        await nothing(to_dave)
        await disconnect_all(to_alice, to_bob, to_dave, to_sam)

    run(scenario)


# --- Tickets: the department's queue -----------------------------------------------------


@pytest.mark.parametrize("reason", ["nobody_online", "out_of_hours"])
@realtime_db
def test_an_unassigned_ticket_is_its_departments_until_an_agent_accepts_it(
    reason: str,
    sandbox: Channel,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    online: Online,
    api_as: ApiAs,
) -> None:
    if reason == "out_of_hours":
        for agent in (alice, bob, dave):
            online(agent)
        close_the_desk()
    as_alice = api_as(alice)

    async def scenario() -> None:
        to_alice, to_bob, to_dave, to_sam = await db(capture_live_events, alice, bob, dave, sam)
        chat_id = (await db(customer_writes, sandbox, phone(3), "Are you open?")).chat_id
        queued = await chat_frames(to_bob, 3)
        assert types(queued) == ["chat.created", "message.created", "message.created"]
        created, inbound, auto_reply = queued
        assert created["data"]["kind"] == "ticket"
        assert created["data"]["ticket_state"] == "unassigned"
        assert created["data"]["agent_id"] is None
        assert created["data"]["department_id"] == sandbox.department_id
        assert (inbound["data"]["direction"], inbound["data"]["text"]) == ("in", "Are you open?")
        assert auto_reply["data"]["is_automatic"] is True
        expected = (
            sandbox.out_of_hours_reply
            if reason == "out_of_hours"
            else sandbox.nobody_available_reply
        )
        assert auto_reply["data"]["text"] == expected
        assert auto_reply["data"]["status"] == "queued"
        assert await chat_frames(to_alice, 3) == queued
        assert await chat_frames(to_sam, 3) == queued
        await nothing(to_dave)  # a Support agent: not his queue

        response = await db(as_alice.post, f"/chats/{chat_id}/accept")
        assert response.status_code == 200, response.content
        accepted = await chat_frames(to_alice, 1)
        assert types(accepted) == ["chat.assigned"]
        data = accepted[0]["data"]
        assert (data["agent_id"], data["ticket_state"], data["by_id"], data["transfer"]) == (
            alice.pk,
            "assigned",
            alice.pk,
            False,
        )
        assert_as_the_api_shows(data, response.json(), every_field=False)
        # Bob gets the event that takes the ticket off his queue, and no more after it.
        assert await chat_frames(to_bob, 1) == accepted
        await nothing(to_dave)

        await db(customer_writes, sandbox, phone(3), "Thanks for taking it")
        reply = await db(as_alice.post, f"/chats/{chat_id}/messages", {"text": "Happy to help"})
        assert reply.status_code == 201, reply.content
        later = await chat_frames(to_alice, 2)
        assert types(later) == ["message.created", "message.created"]
        assert [f["data"]["text"] for f in later] == ["Thanks for taking it", "Happy to help"]
        assert await chat_frames(to_sam, 3) == accepted + later
        await nothing(to_bob)
        await nothing(to_dave)
        await disconnect_all(to_alice, to_bob, to_dave, to_sam)

    run(scenario)
    assert Chat.objects.get(contact__phone=phone(3)).kind == "ticket"


@realtime_db
def test_a_supervisor_assigning_a_ticket_notifies_the_agent_and_empties_the_queue(
    sandbox: Channel,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    api_as: ApiAs,
) -> None:
    as_sam = api_as(sam)

    async def scenario() -> None:
        to_alice, to_bob, to_dave = await db(capture_live_events, alice, bob, dave)
        chat_id = (await db(customer_writes, sandbox, phone(4), "Anyone?")).chat_id
        await chat_frames(to_alice, 3)
        await chat_frames(to_bob, 3)

        response = await db(as_sam.post, f"/chats/{chat_id}/assign", {"agent_id": bob.pk})
        assert response.status_code == 200, response.content
        assigned, notified = await chat_frames(to_bob, 2)
        assert assigned["type"] == "chat.assigned"
        assert (assigned["data"]["agent_id"], assigned["data"]["by_id"]) == (bob.pk, sam.pk)
        assert notified["type"] == "notification.created"
        assert notified["data"]["kind"] == "assigned"
        assert await chat_frames(to_alice, 1) == [assigned]  # it left her queue
        await nothing(to_dave)
        await disconnect_all(to_alice, to_bob, to_dave)

    run(scenario)


# --- chat.closed, chat.reopened ----------------------------------------------------------


@realtime_db
def test_close_and_reopen_reach_the_agent_and_supervisors_only(
    sandbox: Channel,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    online: Online,
    api_as: ApiAs,
) -> None:
    online(alice)
    as_alice = api_as(alice)

    async def scenario() -> None:
        to_alice, to_bob, to_dave, to_sam = await db(capture_live_events, alice, bob, dave, sam)
        chat_id = (await db(customer_writes, sandbox, phone(5), "Bye soon")).chat_id
        await chat_frames(to_alice, 3)
        await chat_frames(to_sam, 3)

        response = await db(as_alice.post, f"/chats/{chat_id}/close")
        assert response.status_code == 200, response.content
        closed = await chat_frames(to_alice, 1)
        assert types(closed) == ["chat.closed"]
        data = closed[0]["data"]
        assert (data["status"], data["closed_by"], data["closed_by_user_id"]) == (
            "closed",
            "agent",
            alice.pk,
        )
        assert data["closed_at"] is not None
        assert_as_the_api_shows(data, response.json(), every_field=False)
        assert await chat_frames(to_sam, 1) == closed

        response = await db(as_alice.post, f"/chats/{chat_id}/reopen")
        assert response.status_code == 200, response.content
        reopened = await chat_frames(to_alice, 1)
        assert types(reopened) == ["chat.reopened"]
        data = reopened[0]["data"]
        assert (data["status"], data["closed_at"], data["by_id"]) == ("open", None, alice.pk)
        assert_as_the_api_shows(data, response.json(), every_field=False)
        assert await chat_frames(to_sam, 1) == reopened
        await nothing(to_bob)
        await nothing(to_dave)
        await disconnect_all(to_alice, to_bob, to_dave, to_sam)

    run(scenario)


@realtime_db
def test_closing_and_reopening_an_unassigned_ticket_reach_its_department(
    sandbox: Channel,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    api_as: ApiAs,
) -> None:
    as_sam = api_as(sam)

    async def scenario() -> None:
        to_alice, to_dave = await db(capture_live_events, alice, dave)
        chat_id = (await db(customer_writes, sandbox, phone(6), "Spam")).chat_id
        await chat_frames(to_alice, 3)

        response = await db(as_sam.post, f"/chats/{chat_id}/close")
        assert response.status_code == 200, response.content
        closed = await chat_frames(to_alice, 1)  # it left Sales' queue
        assert types(closed) == ["chat.closed"]
        assert closed[0]["data"]["ticket_state"] == "closed"
        assert closed[0]["data"]["closed_by"] == "supervisor"

        response = await db(as_sam.post, f"/chats/{chat_id}/reopen")
        assert response.status_code == 200, response.content
        reopened = await chat_frames(to_alice, 1)  # back in Sales' queue
        assert types(reopened) == ["chat.reopened"]
        assert reopened[0]["data"]["ticket_state"] == "unassigned"
        assert reopened[0]["data"]["by_id"] == sam.pk
        await nothing(to_dave)
        await disconnect_all(to_alice, to_dave)

    run(scenario)


# --- comment.created, notification.created (mentions) ------------------------------------


@realtime_db
def test_a_comment_reaches_the_chats_audience_and_a_mention_only_the_mentioned(
    sandbox: Channel,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    ada: User,
    online: Online,
    api_as: ApiAs,
) -> None:
    online(alice)
    as_sam, as_alice = api_as(sam), api_as(alice)

    async def scenario() -> None:
        to_alice, to_bob, to_dave, to_sam, to_ada = await db(
            capture_live_events, alice, bob, dave, sam, ada
        )
        chat_id = (await db(customer_writes, sandbox, phone(7), "I want a refund")).chat_id
        for communicator in (to_alice, to_sam, to_ada):
            await chat_frames(communicator, 3)

        # Sam mentions alice, and bob, who may not see alice's chat: only alice is notified.
        response = await db(
            as_sam.post,
            f"/chats/{chat_id}/comments",
            {"body": "@alice please call them back; @bob FYI"},
        )
        assert response.status_code == 201, response.content
        comment = response.json()
        by_alice = await chat_frames(to_alice, 2)
        assert types(by_alice) == ["comment.created", "notification.created"]
        commented, mentioned = by_alice
        assert commented["chat_id"] == chat_id
        assert commented["data"]["mentions"] == [alice.pk]
        assert (commented["data"]["author_id"], commented["data"]["body"]) == (
            sam.pk,
            "@alice please call them back; @bob FYI",
        )
        assert_as_the_api_shows(commented["data"], comment)
        assert mentioned["data"]["kind"] == "mention"
        assert mentioned["data"]["comment_id"] == comment["id"]
        assert mentioned["data"]["chat_id"] == chat_id
        # Supervisors see the comment, never someone else's notification.
        assert await chat_frames(to_sam, 1) == [commented]
        assert await chat_frames(to_ada, 1) == [commented]

        # Alice mentions sam: sam is notified, ada (who oversees too) is not.
        response = await db(
            as_alice.post, f"/chats/{chat_id}/comments", {"body": "@sam may I refund it?"}
        )
        assert response.status_code == 201, response.content
        by_sam = await chat_frames(to_sam, 2)
        assert types(by_sam) == ["comment.created", "notification.created"]
        assert by_sam[0]["data"]["mentions"] == [sam.pk]
        assert by_sam[1]["data"]["kind"] == "mention"
        assert await chat_frames(to_ada, 1) == by_sam[:1]
        assert await chat_frames(to_alice, 1) == by_sam[:1]
        await nothing(to_bob)
        await nothing(to_dave)
        await disconnect_all(to_alice, to_bob, to_dave, to_sam, to_ada)

    run(scenario)
    assert not Notification.objects.filter(recipient=bob).exists()


# --- message.created (agent reply), message.status ---------------------------------------


@realtime_db
def test_message_status_follows_delivery_and_status_callbacks(
    whatsapp: Channel,
    fake_graph: FakeGraph,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    online: Online,
    api_as: ApiAs,
) -> None:
    online(alice)
    as_alice = api_as(alice)

    async def scenario() -> None:
        to_alice, to_bob, to_dave, to_sam = await db(capture_live_events, alice, bob, dave, sam)
        chat_id = (await db(customer_writes, whatsapp, phone(8), "Shipped yet?")).chat_id
        await chat_frames(to_alice, 3)
        await chat_frames(to_sam, 3)

        response = await db(as_alice.post, f"/chats/{chat_id}/messages", {"text": "Today!"})
        assert response.status_code == 201, response.content
        message_id = response.json()["id"]
        created = await chat_frames(to_alice, 1)
        assert types(created) == ["message.created"]
        data = created[0]["data"]
        assert (data["id"], data["direction"], data["author_id"], data["status"]) == (
            message_id,
            "out",
            alice.pk,
            "queued",
        )
        assert_as_the_api_shows(data, response.json())

        # The worker's send goes out: "sent", with the provider's id.
        assert await db(deliver, message_id) == "sent"
        sent = await chat_frames(to_alice, 1)
        assert types(sent) == ["message.status"]
        assert sent[0]["data"]["status"] == "sent"
        provider_id = fake_graph.issued[0]
        assert sent[0]["data"]["provider_message_id"] == provider_id

        # The provider's callback: "delivered"; the same callback again changes nothing.
        update = StatusUpdate(provider_id, "delivered", timestamp=datetime.now(UTC))
        assert await db(apply_status, channel=whatsapp, update=update) is True
        assert await db(apply_status, channel=whatsapp, update=update) is False
        delivered = await chat_frames(to_alice, 1)
        assert types(delivered) == ["message.status"]
        assert (delivered[0]["data"]["id"], delivered[0]["data"]["status"]) == (
            message_id,
            "delivered",
        )
        shown = await db(api_message, as_alice, chat_id, message_id)
        assert_as_the_api_shows(delivered[0]["data"], shown)

        # A send the provider refuses for good: "failed", with its reason.
        fake_graph.queue((400, graph_error("(#100) Invalid parameter", code=100)))
        response = await db(as_alice.post, f"/chats/{chat_id}/messages", {"text": "Tracking?"})
        assert response.status_code == 201, response.content
        refused_id = response.json()["id"]
        assert await db(deliver, refused_id) == "failed"
        failed = await chat_frames(to_alice, 2)
        assert types(failed) == ["message.created", "message.status"]
        data = failed[1]["data"]
        assert (data["id"], data["status"]) == (refused_id, "failed")
        row = await db(Message.objects.get, pk=refused_id)
        assert (data["error_code"], data["error_reason"]) == (row.error_code, row.error_reason)
        assert data["error_reason"]
        shown = await db(api_message, as_alice, chat_id, refused_id)
        assert_as_the_api_shows(data, shown)

        assert await chat_frames(to_sam, 5) == created + sent + delivered + failed
        await nothing(to_bob)
        await nothing(to_dave)
        await disconnect_all(to_alice, to_bob, to_dave, to_sam)

    run(scenario)


@realtime_db
def test_a_send_given_up_by_the_outbox_sweep_is_a_failed_status(
    settings: Any,
    sandbox: Channel,
    alice: User,
    bob: User,
    sam: User,
    online: Online,
    api_as: ApiAs,
) -> None:
    online(alice)
    as_alice = api_as(alice)

    def worker_stopped_mid_call(message_id: int) -> None:
        # Claimed, then never heard of again: in flight since long before the give-up time.
        long_ago = clock.now() - timedelta(seconds=settings.CHATDESK_SEND_AMBIGUOUS_GIVE_UP + 60)
        Message.objects.filter(pk=message_id).update(in_flight_since=long_ago, attempts=1)

    async def scenario() -> None:
        to_alice, to_bob, to_sam = await db(capture_live_events, alice, bob, sam)
        chat_id = (await db(customer_writes, sandbox, phone(9), "Hello?")).chat_id
        await chat_frames(to_alice, 3)
        response = await db(as_alice.post, f"/chats/{chat_id}/messages", {"text": "Hi!"})
        assert response.status_code == 201, response.content
        message_id = response.json()["id"]
        await chat_frames(to_alice, 1)
        await db(worker_stopped_mid_call, message_id)

        assert (await db(recover_outbox))["given_up"] == 1
        failed = await chat_frames(to_alice, 1)
        assert types(failed) == ["message.status"]
        data = failed[0]["data"]
        assert (data["id"], data["status"], data["error_code"]) == (
            message_id,
            "failed",
            "ambiguous",
        )
        assert (await chat_frames(to_sam, 5))[-1] == failed[0]
        await nothing(to_bob)
        await disconnect_all(to_alice, to_bob, to_sam)

    run(scenario)


# --- presence.changed --------------------------------------------------------------------


@realtime_db
def test_presence_changes_reach_everyone(
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    ada: User,
    api_as: ApiAs,
) -> None:
    as_alice = api_as(alice)

    def presence_of(user: User, received: list[Frame]) -> list[dict[str, Any]]:
        return [
            frame["data"]
            for frame in received
            if frame["type"] == "presence.changed" and frame["data"]["user_id"] == user.pk
        ]

    async def scenario() -> None:
        watchers = await connect_all(alice, dave, sam, ada)
        for communicator in watchers:
            await frames(communicator)
        # Bob's first socket brings him online; closing his last one takes him offline.
        to_bob = await connect(bob)
        await to_bob.disconnect()
        # Alice's own choice.
        response = await db(as_alice.put, "/me/presence", {"status": "away"})
        assert response.status_code == 200, response.content
        for communicator in watchers:
            received = await frames_until(communicator, lambda got: len(got) >= 3)
            received += await frames(communicator)
            assert types(received) == ["presence.changed"] * 3, received
            assert_in_seq_order(received)
            assert presence_of(bob, received) == [
                {"user_id": bob.pk, "presence": "offline", "online": True},
                {"user_id": bob.pk, "presence": "offline", "online": False},
            ]
            assert presence_of(alice, received) == [
                {"user_id": alice.pk, "presence": "away", "online": True}
            ]
        await disconnect_all(*watchers)

    run(scenario)


# --- The worker's sweeps: stragglers and pruning ------------------------------------------


@realtime_db
def test_the_sweep_numbers_and_sends_events_a_dead_process_left_unnumbered(
    sandbox: Channel, alice: User, bob: User, sam: User, online: Online
) -> None:
    online(alice)
    chat = customer_writes(sandbox, phone(40), "Hi").chat

    def die_before_numbering() -> tuple[int, list[LiveEvent], LiveEvent]:
        """Events as a process that died between its commit and numbering leaves them,
        and one whose own process is numbering it right now: not the sweep's yet."""
        long_ago = clock.now() - timedelta(seconds=30)
        left = [
            LiveEvent.objects.create(
                type=LiveEventType.MESSAGE_CREATED,
                chat_id=chat.pk,
                data={"id": 0, "text": f"left behind {n}"},
                created_at=long_ago + timedelta(seconds=n),
            )
            for n in range(2)
        ]
        left.append(
            LiveEvent.objects.create(
                type=LiveEventType.CHAT_CLOSED,
                chat_id=chat.pk,
                data={"by_id": None},
                created_at=long_ago,
            )
        )
        fresh = LiveEvent.objects.create(
            type=LiveEventType.MESSAGE_CREATED, chat_id=chat.pk, data={}, created_at=clock.now()
        )
        return live_events.latest_seq(), left, fresh

    def sweep_later() -> int:
        with time_machine.travel(clock.now() + timedelta(seconds=5)):
            return sequencer.sequence_stragglers()

    async def scenario() -> None:
        # Connected first: opening a socket publishes presence, and any sequencer numbers
        # every pending event, which would leave the sweep nothing to do.
        to_alice, to_bob, to_sam = await connect_all(alice, bob, sam)
        await frames(to_sam)
        last, left, fresh = await db(die_before_numbering)
        assert await db(sequencer.sequence_stragglers) == 3
        got = await chat_frames(to_alice, 3)
        assert [frame["seq"] for frame in got] == [last + 1, last + 2, last + 3]
        assert types(got) == ["message.created", "message.created", "chat.closed"]
        assert [frame["data"].get("text") for frame in got[:2]] == [
            "left behind 0",
            "left behind 1",
        ]
        # A chat event is filled in from the chat as committed.
        assert got[2]["data"]["agent_id"] == alice.pk
        assert got[2]["data"]["by_id"] is None
        assert await chat_frames(to_sam, 3) == got
        await nothing(to_bob)
        numbered = await db(
            lambda: list(LiveEvent.objects.filter(pk__in=[e.pk for e in left]).order_by("pk"))
        )
        assert [row.agent_id for row in numbered] == [alice.pk] * 3
        await db(fresh.refresh_from_db)
        assert fresh.seq is None
        # Its process died too: a later sweep takes it.
        assert await db(sweep_later) == 1
        late = await chat_frames(to_alice, 1)
        assert [frame["seq"] for frame in late] == [last + 4]
        await disconnect_all(to_alice, to_bob, to_sam)

    run(scenario)
    seqs = list(LiveEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))  # still no gap


@realtime_db
def test_pruning_keeps_the_newest_and_what_is_within_retention_then_since_resyncs(
    sandbox: Channel, sam: User, settings: Any
) -> None:
    settings.CHATDESK_EVENT_RETENTION_DAYS = 7
    now = clock.now()
    with time_machine.travel(now - timedelta(days=10), tick=False):
        customer_writes(sandbox, phone(50), "ten days ago")
    old = live_events.latest_seq()
    with time_machine.travel(now - timedelta(days=2), tick=False):
        customer_writes(sandbox, phone(51), "two days ago")
    newest = live_events.latest_seq()
    assert 0 < old < newest - 1

    assert sequencer.prune_old_events() == old
    assert live_events.log_bounds() == (old + 1, newest)
    assert sequencer.prune_old_events() == 0  # nothing more is past the retention

    async def replay(since: int) -> list[Frame]:
        communicator = await connect(sam, since=since)
        received = await frames(communicator)
        await communicator.disconnect()
        return received

    async def after_the_first_prune() -> None:
        assert (await replay(old - 1))[0] == {"type": "resync"}
        fine = await replay(old)
        assert [frame["seq"] for frame in fine[: newest - old]] == list(range(old + 1, newest + 1))

    run(after_the_first_prune)

    # A month on, everything is past the retention: the newest alone is kept, and with it
    # the current seq, so numbering goes on from there.
    with time_machine.travel(now + timedelta(days=30), tick=False):
        before = live_events.latest_seq()
        assert sequencer.prune_old_events() == before - 1 - old
        assert live_events.log_bounds() == (before, before)

    async def after_the_second_prune() -> None:
        assert (await replay(before - 2))[0] == {"type": "resync"}
        fine = await replay(before - 1)
        assert fine and fine[0]["seq"] == before

    run(after_the_second_prune)
    customer_writes(sandbox, phone(52), "after the prune")
    assert LiveEvent.objects.filter(seq=before + 1).exists()
