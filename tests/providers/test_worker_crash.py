"""A real ``chatdesk worker`` killed (SIGKILL) in the middle of delivering: after a
restart the message goes out, and the fake provider never sees it sent twice."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from tests.support.fakes import FakeGraph, graph_error
from tests.support.processes import Desk, wait_for

# alice_on_duty: autouse where these tests lived before (tests/messaging).
pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("alice_on_duty")]

SEED = """
import json
from chatdesk.accounts.services import create_user
from chatdesk.chats.models import Chat, Contact
from chatdesk.chats.services.outbound import Reply
from chatdesk.flows.outbound import send_message
from chatdesk.core import clock
from chatdesk.providers.models import Channel
agent = create_user(username="alice", password="correct-horse-battery")
channel = Channel.objects.create(
    kind="whatsapp", name="WA",
    config={{"phone_number_id": "{phone}", "graph_api_url": "{graph}"}},
    secrets={{"access_token": "{token}"}},
)
contact = Contact.objects.create(phone="+27821234567", name="Carol")
chat = Chat.objects.create(channel=channel, contact=contact, agent=agent,
                           created_at=clock.now(), last_inbound_at=clock.now())
message = send_message(chat_id=chat.pk, reply=Reply(text="Your parcel is on its way"), by=agent)
print(json.dumps(message.pk))
"""

STATE = """
import json
from chatdesk.chats.models import Message
m = Message.objects.get(pk={pk})
print(json.dumps({{"status": m.status, "provider_message_id": m.provider_message_id,
                  "error_code": m.error_code, "attempts": m.attempts}}))
"""


def seed(desk: Desk, fake: FakeGraph) -> int:
    code = SEED.format(
        phone=fake.phone_number_id, graph=fake.graph_api_url, token=fake.access_token
    )
    return int(desk.query(code))


def state(desk: Desk, pk: int) -> dict[str, Any]:
    return dict(desk.query(STATE.format(pk=pk)))


@pytest.fixture
def crash_desk(desk: Desk) -> Desk:
    desk.env.update(
        CHATDESK_SEND_LEASE="1",
        CHATDESK_OUTBOX_SWEEP_EVERY="0.5",
        # Long enough that the test sees the retry scheduled and kills the worker before
        # it is due, even when each look at the database takes seconds on a loaded machine.
        CHATDESK_SEND_BACKOFF_BASE="15",
        CHATDESK_SEND_BACKOFF_CAP="15",
        CHATDESK_SEND_TIMEOUT="20",
    )
    return desk


def test_killed_while_waiting_to_retry_sends_once_after_restart(crash_desk: Desk):
    with FakeGraph() as fake:
        fake.queue((500, graph_error("Temporarily unavailable", code=2)))
        pk = seed(crash_desk, fake)
        with crash_desk.start("worker") as worker:
            wait_for(lambda: len(fake.requests) >= 1, timeout=60, what="the first attempt")
            wait_for(
                lambda: state(crash_desk, pk)["attempts"] == 1 or None,
                timeout=30,
                what="the retry to be scheduled",
            )
            os.killpg(worker.pid, signal.SIGKILL)
            worker.process.wait(timeout=10)
        assert len(fake.requests) == 1
        with crash_desk.start("worker"):
            final = wait_for(
                lambda: (s := state(crash_desk, pk))["status"] == "sent" and s,
                timeout=90,
                what="the message to be sent after the restart",
            )
        assert final["provider_message_id"] == fake.issued[0]
        assert len(fake.issued) == 1
        assert len(fake.requests) == 2  # the failed attempt and the one that went out


def test_killed_inside_the_provider_call_is_never_resent_and_the_status_settles_it(
    crash_desk: Desk,
):
    with FakeGraph() as fake:
        fake.delay(60)  # the provider sits on the request; the worker dies meanwhile
        pk = seed(crash_desk, fake)
        with crash_desk.start("worker") as worker:
            wait_for(lambda: len(fake.requests) >= 1, timeout=60, what="the provider call")
            os.killpg(worker.pid, signal.SIGKILL)
            worker.process.wait(timeout=10)
        with crash_desk.start("worker"):
            wait_for(
                lambda: state(crash_desk, pk)["error_code"] == "ambiguous" or None,
                timeout=60,
                what="the interrupted send to be noticed",
            )
            # Meta's status webhook for that message carries our reference.
            crash_desk.python(
                f"""
                from chatdesk.chats.services.inbound import apply_status
                from chatdesk.providers.base import StatusUpdate
                from chatdesk.providers.models import Channel
                apply_status(channel=Channel.objects.get(), update=StatusUpdate(
                    provider_message_id="wamid.settled", status="delivered",
                    reference="chatdesk-{pk}"))
                """
            )
            final = state(crash_desk, pk)
        assert final["status"] == "delivered"
        assert final["provider_message_id"] == "wamid.settled"
        assert len(fake.requests) == 1
