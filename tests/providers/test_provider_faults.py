"""The provider misbehaving: HTTP 429 with Retry-After, Meta's 130429 (throughput), 503 and
timeouts. Each is retried with jittered backoff, each attempt takes its pacing slot, a
throughput limit holds the whole number, and after the last attempt the failure and its
reason reach the chat's agent and the supervisors: in the API, live, and in the panel.

Single faults and their reasons one by one are in test_delivery.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings

from chatdesk.accounts.models import User
from chatdesk.chats.models import Message
from chatdesk.chats.services.outbound import Reply
from chatdesk.core import clock
from chatdesk.flows.outbound import send_message
from chatdesk.providers.delivery import backoff_delay
from chatdesk.providers.models import Channel, SendPace
from chatdesk.providers.tasks import deliver
from tests.support.chats import queued
from tests.support.fakes import FakeGraph, graph_error
from tests.support.fakes import Reply as FakeReply
from tests.support.live import connect, customer_writes, db, frames, frames_until, run
from tests.support.personas import ApiClient

# alice_on_duty: autouse where these tests lived before (tests/messaging).
pytestmark = pytest.mark.usefixtures("alice_on_duty")

ApiAs = Callable[[User | None], ApiClient]

QUICK = override_settings(
    CHATDESK_SEND_BACKOFF_BASE=0.01, CHATDESK_SEND_BACKOFF_CAP=0.02, CHATDESK_SEND_TIMEOUT=0.5
)
THROUGHPUT = "(#130429) Rate limit hit"


def next_slot(channel: Channel) -> Any:
    return SendPace.objects.get(channel=channel).next_slot_at


def attempt(message_id: int, *, timeout: float = 30) -> str:
    """Deliver once the retry is due: a worker's task runs at its time, a little later."""
    deadline = time.monotonic() + timeout
    while (outcome := deliver(message_id)) == "skipped":
        assert time.monotonic() < deadline, "the retry never came due"
        time.sleep(0.05)
    return outcome


def test_backoff_is_exponential_with_jitter_and_retry_after_is_a_floor(settings: Any) -> None:
    settings.CHATDESK_SEND_BACKOFF_BASE = 2.0
    settings.CHATDESK_SEND_BACKOFF_CAP = 300.0
    for attempts, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 64.0), (12, 300.0)]:
        delays = [backoff_delay(attempts) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempts, delays)
        assert len(set(delays)) > 100  # jittered: workers retrying together spread out
    assert all(backoff_delay(1, retry_after=30) == 30 for _ in range(20))
    assert backoff_delay(12, retry_after=1) >= 150


@pytest.mark.django_db
@QUICK
def test_a_retry_takes_a_pacing_slot_like_any_send(wa_live, carol, alice, fake_graph):
    Channel.objects.filter(pk=wa_live.pk).update(send_rate=1)
    fake_graph.queue((503, graph_error("Service unavailable", code=2)))
    message = queued(wa_live, carol, alice)
    assert deliver(message.pk) == "retry"
    after_first = next_slot(wa_live)
    assert attempt(message.pk) == "sent"
    # The retry waited for the channel's next slot, a second after the first attempt's.
    assert next_slot(wa_live) - after_first == timedelta(seconds=1)
    assert len(fake_graph.requests) == 2


@pytest.mark.django_db
def test_a_throughput_limit_holds_the_whole_number(wa_live, carol, alice, fake_graph):
    fake_graph.queue(
        FakeReply(400, graph_error(THROUGHPUT, code=130429), {"Retry-After": "30"}),
    )
    told = queued(wa_live, carol, alice, "first")
    other = send_message(chat_id=told.chat_id, reply=Reply(text="second"), by=alice)
    before = clock.now()
    assert deliver(told.pk) == "retry"
    assert next_slot(wa_live) >= before + timedelta(seconds=30)
    # Another message through the same number waits its turn instead of being refused too.
    assert deliver(other.pk) == "paced"
    assert len(fake_graph.requests) == 1
    other.refresh_from_db()
    assert other.status == "queued" and other.attempts == 0
    assert other.next_attempt_at is not None
    assert other.next_attempt_at >= before + timedelta(seconds=27)


@pytest.mark.django_db
def test_a_limit_on_one_recipient_does_not_hold_the_number(wa_live, carol, alice, fake_graph):
    fake_graph.queue(
        (400, graph_error("(#131056) Pair rate limit hit", code=131056)),
    )
    told = queued(wa_live, carol, alice, "first")
    other = send_message(chat_id=told.chat_id, reply=Reply(text="second"), by=alice)
    assert deliver(told.pk) == "retry"
    assert next_slot(wa_live) <= clock.now() + timedelta(seconds=1)
    assert deliver(other.pk) == "sent"


@pytest.mark.django_db(transaction=True)
@QUICK
@override_settings(CHATDESK_SEND_MAX_ATTEMPTS=5)
def test_every_fault_is_retried_then_the_failure_reaches_agent_and_supervisors(
    wa_live: Channel,
    fake_graph: FakeGraph,
    alice: User,
    bob: User,
    sam: User,
    api_as: ApiAs,
) -> None:
    fake_graph.queue(
        FakeReply(429, None, {"Retry-After": "1"}),  # Meta's 429 body: 130429
        (400, graph_error(THROUGHPUT, code=130429)),
        (503, None),
        FakeReply(200, None, delay=2.0),  # longer than the send timeout
        (503, graph_error("Service temporarily unavailable", code=2)),
    )
    reason = "Gave up after 5 attempts: Service temporarily unavailable"
    sent: dict[str, int] = {}
    as_alice = api_as(alice)

    async def scenario() -> None:
        to_alice, to_bob, to_sam = (
            (await connect(alice)),
            (await connect(bob)),
            (await connect(sam)),
        )
        inbound = await db(customer_writes, wa_live, "+27825550101", "Where is my order?")
        chat_id = inbound.chat_id
        response = await db(as_alice.post, f"/chats/{chat_id}/messages", {"text": "Today"})
        assert response.status_code == 201, response.content
        message_id = response.json()["id"]
        sent.update(chat_id=chat_id, message_id=message_id)

        outcomes, slots, reasons = [], [], []
        for _ in range(5):
            outcomes.append(await db(attempt, message_id))
            row = await db(Message.objects.get, pk=message_id)
            reasons.append(row.error_reason)
            slots.append(await db(next_slot, wa_live))
        assert outcomes == ["retry"] * 4 + ["failed"]
        assert all(r.startswith("Retrying: ") for r in reasons[:4]), reasons
        assert "Rate limit hit" in reasons[0] and "Rate limit hit" in reasons[1]
        assert "did not answer in time" in reasons[3]
        assert reasons[4] == reason
        assert slots == sorted(set(slots))  # every attempt took a slot of its own
        assert len(fake_graph.requests) == 5

        def failed_status(frame: dict[str, Any]) -> bool:
            data = frame["data"]
            return frame["type"] == "message.status" and data.get("id") == message_id

        for viewer in (to_alice, to_sam):
            received = await frames_until(viewer, lambda got: any(map(failed_status, got)))
            received = [f for f in received + await frames(viewer) if failed_status(f)]
            assert [f["data"]["status"] for f in received] == ["failed"]
            assert received[0]["data"]["error_reason"] == reason
        assert not [f for f in await frames(to_bob) if failed_status(f)]
        for communicator in (to_alice, to_bob, to_sam):
            await communicator.disconnect()

    run(scenario)

    for viewer in (alice, sam):
        page = api_as(viewer).get(f"/chats/{sent['chat_id']}/messages")
        assert page.status_code == 200
        item = next(i for i in page.json()["items"] if i["id"] == sent["message_id"])
        assert (item["status"], item["error_reason"]) == ("failed", reason)
        browser = Client()
        browser.force_login(viewer)
        html = browser.get(f"/chats/{sent['chat_id']}/panel/").content.decode()
        assert f"Not delivered: {reason}" in html
