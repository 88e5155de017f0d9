"""Live events: published after commit, numbered without gaps, addressed to who may see
them, replayed after ``?since=``, and ``resync`` when the log no longer reaches back."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from chatdesk.accounts.models import User
from chatdesk.providers.models import Channel
from chatdesk.realtime import log as live_events
from chatdesk.realtime import sequencer
from chatdesk.realtime.models import LiveEvent
from tests.support.live import (
    about_chats,
    connect,
    customer_writes,
    db,
    frames,
    frames_until,
    run,
    types,
)

realtime_db = pytest.mark.django_db(transaction=True)


@realtime_db
def test_a_customer_message_reaches_its_agent_and_supervisors_not_other_agents(
    sandbox: Channel, alice: User, dave: User, sam: User, online: Any
) -> None:
    online(alice)
    online(dave)

    async def scenario() -> None:
        to_alice = await connect(alice)
        to_dave = await connect(dave)
        to_sam = await connect(sam)
        message = await db(customer_writes, sandbox, "+27820000001", "Hello, my order?")
        got = await frames_until(to_alice, lambda r: "message.created" in types(r))
        got = about_chats(got + await frames(to_alice))
        assert types(got) == ["chat.created", "message.created", "chat.assigned"]
        assert got[1]["data"]["text"] == "Hello, my order?"
        assert got[1]["chat_id"] == message.chat_id
        assert got[0]["data"]["agent_id"] == alice.pk
        assert [f["seq"] for f in got] == sorted(f["seq"] for f in got)
        seen_by_sam = await frames_until(to_sam, lambda r: len(about_chats(r)) >= 3)
        assert [f["seq"] for f in about_chats(seen_by_sam)] == [f["seq"] for f in got]
        assert about_chats(await frames(to_dave)) == []
        for communicator in (to_alice, to_dave, to_sam):
            await communicator.disconnect()

    run(scenario)


@realtime_db
def test_a_rolled_back_change_publishes_nothing(sandbox: Channel, alice: User, sam: User) -> None:
    async def scenario() -> None:
        to_sam = await connect(sam)

        def write_then_fail() -> None:
            with pytest.raises(RuntimeError), transaction.atomic():
                customer_writes(sandbox, "+27820000002", "never stored")
                raise RuntimeError("boom")

        await db(write_then_fail)
        assert await frames(to_sam) == []
        await db(customer_writes, sandbox, "+27820000003", "stored")
        got = await frames_until(to_sam, lambda r: "message.created" in types(r))
        # The rolled-back events took no number: sam's own presence came first.
        assert [f["seq"] for f in got] == list(range(2, 2 + len(got)))
        await to_sam.disconnect()

    run(scenario)
    assert LiveEvent.objects.filter(data__text="never stored").count() == 0


@realtime_db
def test_since_replays_the_missed_events_in_order_then_goes_live(
    sandbox: Channel, alice: User, sam: User, online: Any
) -> None:
    online(alice)

    async def scenario() -> None:
        first = await connect(alice)
        await db(customer_writes, sandbox, "+27820000004", "one")
        got = await frames_until(first, lambda r: "message.created" in types(r))
        got = about_chats(got + await frames(first))
        last = got[-1]["seq"]
        await first.disconnect()

        # Away: more happens, some of it for others only.
        await db(customer_writes, sandbox, "+27820000004", "two")
        await db(customer_writes, sandbox, "+27820000004", "three")

        again = await connect(alice, since=last)
        replayed = about_chats(await frames(again))
        assert [f["data"]["text"] for f in replayed] == ["two", "three"]
        seqs = [f["seq"] for f in replayed]
        assert seqs == sorted(seqs) and seqs[0] > last
        await db(customer_writes, sandbox, "+27820000004", "four")
        live = about_chats(await frames_until(again, lambda r: "message.created" in types(r)))
        assert [f["data"]["text"] for f in live] == ["four"]
        assert about_chats(await frames(again)) == []  # nothing twice
        await again.disconnect()

    run(scenario)


@realtime_db
def test_since_older_than_the_log_gets_resync_first(
    sandbox: Channel, sam: User, settings: Any
) -> None:
    for n in range(3):
        customer_writes(sandbox, f"+2782000001{n}", "hello")
    sequencer.sequence_pending()
    LiveEvent.objects.filter(seq__lte=2).delete()  # forgotten, as if past the retention

    async def scenario() -> None:
        stale = await connect(sam, since=1)
        got = await frames(stale)
        assert got[0] == {"type": "resync"}
        await stale.disconnect()
        fine = await connect(sam, since=2)
        got = await frames(fine)
        assert got and got[0]["seq"] == 3
        await fine.disconnect()

    run(scenario)


@realtime_db
def test_seq_has_no_gaps(sandbox: Channel, sam: User) -> None:
    for n in range(5):
        customer_writes(sandbox, f"+2782000002{n}", f"hello {n}")
    seqs = list(LiveEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


@realtime_db
def test_a_burst_larger_than_the_buffer_flows_through_a_client_that_keeps_reading(
    sam: User, settings: Any
) -> None:
    settings.CHATDESK_WS_BUFFER = 20
    burst = 300

    def publish_burst() -> None:
        with transaction.atomic():  # one commit, one batch of 300 for the hub
            for n in range(burst):
                live_events.publish("presence.changed", data={"n": n}, everyone=True)

    async def scenario() -> None:
        to_sam = await connect(sam)
        await db(publish_burst)
        got = await frames_until(
            to_sam, lambda r: sum(1 for f in r if "n" in f.get("data", {})) == burst
        )
        assert {"type": "resync"} not in got
        numbered = [f["data"]["n"] for f in got if "n" in f.get("data", {})]
        assert numbered == list(range(burst))
        await to_sam.disconnect()

    run(scenario)
