"""Real ``chatdesk worker`` processes killed (SIGKILL) at random moments while they work
through many sends, and started again, until everything settles.

Pass: no message is lost, every one ends sent, delivered or failed, and the provider sees
each message once, except a send whose worker died inside the provider call: that one is
marked ambiguous, never sent again, and settled by the provider's status callback (Meta
echoes our reference in ``biz_opaque_callback_data``). A send interrupted before it reached
the provider, which no callback will ever settle, fails at the give-up time with its
reason.

Small in ``make test``; CHATDESK_CHAOS_SCALE=full sends 500. The seed is printed, and
CHATDESK_CHAOS_SEED replays a run.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import threading
import time
from collections import Counter
from typing import Any

import psycopg
import pytest

from tests.support.fakes import FakeGraph, Recorded, _Answer, _Handler
from tests.support.processes import Desk, wait_for

FULL = os.environ.get("CHATDESK_CHAOS_SCALE", "").strip().lower() == "full"
MESSAGES = 500 if FULL else 30
KILLS = 25 if FULL else 5

pytestmark = pytest.mark.timeout(900 if FULL else 240)

SEED_MESSAGES = """
import json
from chatdesk.accounts.services import create_user
from chatdesk.chats.models import Chat, Contact
from chatdesk.chats.services.outbound import Reply
from chatdesk.flows.outbound import send_message
from chatdesk.core import clock
from chatdesk.providers.models import Channel
agent = create_user(username="alice", password="correct-horse-battery")
channel = Channel.objects.create(
    kind="whatsapp", name="WA", send_rate=50,
    config={{"phone_number_id": "{phone}", "graph_api_url": "{graph}"}},
    secrets={{"access_token": "{token}"}},
)
ids = []
for n in range({count}):
    contact = Contact.objects.create(phone=f"+2782{{n:07d}}", name=f"Customer {{n}}")
    chat = Chat.objects.create(channel=channel, contact=contact, agent=agent,
                               created_at=clock.now(), last_inbound_at=clock.now())
    ids.append(send_message(chat_id=chat.pk, reply=Reply(text=f"Reply {{n}}"), by=agent).pk)
print(json.dumps(ids))
"""

CALLBACKS = """
import json
from chatdesk.chats.services.inbound import apply_status
from chatdesk.providers.base import StatusUpdate
from chatdesk.providers.models import Channel
channel = Channel.objects.get()
settled = [apply_status(channel=channel, update=StatusUpdate(
               provider_message_id=wamid, status="delivered", reference=reference))
           for reference, wamid in json.loads('{pairs}')]
print(json.dumps(settled))
"""

GIVE_UP = """
import json
from chatdesk.providers.tasks import sweep_outbox as recover_outbox
print(json.dumps(recover_outbox()))
"""


class SlowGraph(FakeGraph):
    """Meta's Graph API answering each send after a short random wait (so a worker is often
    inside the call when it dies), and remembering which id it gave to which reference,
    as Meta does to send the status callback."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng
        self.answered: dict[str, str] = {}  # our reference -> the provider's id
        self.inside = 0  # requests being answered right now
        self._guard = threading.Lock()

    def _handle(self, handler: _Handler) -> None:
        with self._guard:
            self.inside += 1
        try:
            super()._handle(handler)
        finally:
            with self._guard:
                self.inside -= 1

    def _answer(self, request: Recorded) -> tuple[_Answer, float]:
        answer, hold = super()._answer(request)
        with self._guard:
            wait = self.rng.uniform(0.05, 0.4)
        return answer, max(hold, wait)

    def _send(self, request: Recorded, phone_number_id: str) -> _Answer:
        answer = super()._send(request, phone_number_id)
        if answer.status == 200:
            with self._guard:
                reference = request.json["biz_opaque_callback_data"]
                self.answered[reference] = answer.body["messages"][0]["id"]
        return answer

    def references(self) -> Counter[str]:
        return Counter(body["biz_opaque_callback_data"] for body in self.sent)


def states(desk: Desk) -> dict[int, list[Any]]:
    """Each outbound message's status, provider id, error code and reason, read straight
    from the scratch database (a ``chatdesk shell`` each time would be slow to poll)."""
    query = (
        "SELECT id, status, provider_message_id, error_code, error_reason "
        "FROM chats_message WHERE direction = 'out'"
    )
    if desk.url.startswith("sqlite:"):
        with contextlib.closing(sqlite3.connect(desk.url.removeprefix("sqlite:///"))) as db:
            rows = db.execute(query).fetchall()
    else:
        with psycopg.connect(desk.url) as db:
            rows = db.execute(query).fetchall()
    return {int(row[0]): list(row[1:]) for row in rows}


def unsettled(desk: Desk) -> list[int]:
    """Messages still waiting to be sent: queued and not known to be interrupted."""
    return [
        pk
        for pk, (status, _, code, _) in states(desk).items()
        if status == "queued" and code != "ambiguous"
    ]


def test_workers_killed_at_random_lose_nothing_and_send_nothing_twice(desk: Desk) -> None:
    seed = int(os.environ.get("CHATDESK_CHAOS_SEED") or random.SystemRandom().randrange(10**6))
    print(f"send worker kills: seed {seed}, {MESSAGES} messages, {KILLS} kills")
    rng = random.Random(seed)
    desk.env.update(
        CHATDESK_SEND_LEASE="1",
        CHATDESK_OUTBOX_SWEEP_EVERY="0.5",
        CHATDESK_SEND_AMBIGUOUS_GIVE_UP="3600",  # the callbacks settle them first
        CHATDESK_SEND_TIMEOUT="10",
    )
    with SlowGraph(random.Random(seed + 1)) as graph:
        code = SEED_MESSAGES.format(
            phone=graph.phone_number_id,
            graph=graph.graph_api_url,
            token=graph.access_token,
            count=MESSAGES,
        )
        ids = set(desk.query(code))
        assert len(ids) == MESSAGES

        # Kill a worker at a random moment or, every other time starting with the first,
        # while it is inside the provider call; then start another.
        kills = 0
        for round_ in range(KILLS):
            with desk.start("worker", "--interval", "0.2") as worker:
                if round_ % 2 == 0:
                    wait_for(
                        lambda: graph.inside > 0 or not unsettled(desk),
                        timeout=60,
                        what="a provider call",
                        interval=0.01,
                    )
                else:
                    time.sleep(rng.uniform(0.3, 3.0))
                os.killpg(worker.pid, signal.SIGKILL)
                worker.process.wait(timeout=10)
                kills += 1
            if not unsettled(desk):
                print(f"all sends settled after {round_ + 1} kills")
                break

        # Then one worker left alone sends the rest (a killed worker's tasks are found
        # by the outbox sweep).
        with desk.start("worker", "--interval", "0.2"):
            wait_for(
                lambda: not unsettled(desk),
                timeout=600 if FULL else 120,
                what="every message to be sent or known as interrupted",
            )
        requests = graph.references()
        answered = dict(graph.answered)

    assert kills >= 1
    seen = set(requests)
    assert max(requests.values()) == 1, [r for r, n in requests.items() if n > 1]
    assert seen <= {f"chatdesk-{pk}" for pk in ids}

    before_callbacks = states(desk)
    interrupted = {pk for pk, row in before_callbacks.items() if row[2] == "ambiguous"}
    print(f"{len(interrupted)} sends interrupted, {len(seen)} seen by the provider")
    for pk, (status, provider_id, code, _) in before_callbacks.items():
        reference = f"chatdesk-{pk}"
        if pk in interrupted:
            assert status == "queued" and provider_id is None
        else:  # a clean send: out once, with the id the provider gave it
            assert status == "sent", (pk, status, code)
            assert provider_id == answered[reference]
    # At least one kill landed inside a provider call (every other round waits for one).
    assert any(f"chatdesk-{pk}" in seen for pk in interrupted), (interrupted, seed)

    # The status callbacks for what reached the provider settle the interrupted sends...
    pairs = [
        (f"chatdesk-{pk}", answered[f"chatdesk-{pk}"])
        for pk in sorted(interrupted)
        if f"chatdesk-{pk}" in answered
    ]
    assert all(desk.query(CALLBACKS.format(pairs=json.dumps(pairs))))
    # ...and those that never reached it fail at the give-up time, with the reason.
    desk.env["CHATDESK_SEND_AMBIGUOUS_GIVE_UP"] = "1"
    desk.query(GIVE_UP)

    final = states(desk)
    assert set(final) == ids  # nothing lost, nothing made up
    for pk, (status, provider_id, _, reason) in final.items():
        reference = f"chatdesk-{pk}"
        if reference in seen:
            assert status in {"sent", "delivered"}, (pk, status)
            assert provider_id == answered[reference]
        else:
            assert pk in interrupted and status == "failed", (pk, status)
            assert "never confirmed" in reason
