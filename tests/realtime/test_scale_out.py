"""Two app instances sharing one database (and one Redis, when the suite runs with
REDIS_URL): an event raised on either reaches the live clients of both, and a client that
was away reconnects to the other instance with ``?since=`` and gets exactly what it
missed, in order, then the live events.

Without Redis (the SQLite pass) events cross between the instances by reading the log on
a timer. With Redis, that timer is set far beyond the test's length, so every event that
crosses does so through Redis, and the test checks that it crosses within two seconds."""

from __future__ import annotations

import os
import time

from tests.support.processes import Desk, wait_for
from tests.support.sockets import (
    DeskSetup,
    Frame,
    Reader,
    Server,
    connection_count,
    inbound_texts,
    post_webhook,
    reading,
    seqs,
    serving,
    set_up,
    summary,
    visible_log,
    whatsapp_texts,
)

REDIS_URL = os.environ.get("REDIS_URL", "")

# With Redis, longer than the whole test: no event may cross by reading the log on a timer.
POLL_NEVER = "600"
CROSSES_WITHIN = 2.0  # seconds, with Redis


def instance_env() -> dict[str, str]:
    if REDIS_URL:
        return {"REDIS_URL": REDIS_URL, "CHATDESK_EVENTS_POLL": POLL_NEVER}
    return {}


def customer_writes(server: Server, setup: DeskSetup, text: str) -> float:
    """Post one inbound WhatsApp message to ``server``; when the post began."""
    began = time.monotonic()
    post_webhook(server, setup, whatsapp_texts(text, first_id=f"wamid.{text}"))
    return began


def arrival(reader: Reader, text: str, *, after: float) -> float:
    """Seconds from ``after`` until the frame carrying the customer's ``text`` arrived."""
    frames = reader.until(lambda f: text in inbound_texts(f), timeout=30, what=repr(text))
    index = next(i for i, f in enumerate(frames) if inbound_texts([f]) == [text])
    return reader.arrived[index] - after


def as_log(frames: list[Frame]) -> list[tuple[int, str]]:
    return [(frame["seq"], frame["type"]) for frame in frames if "seq" in frame]


def test_events_cross_instances_and_a_reconnect_elsewhere_gets_exactly_what_it_missed(
    desk: Desk,
) -> None:
    setup = set_up(desk)
    env = instance_env()
    with serving(desk, "instance-a", **env) as a, serving(desk, "instance-b", **env) as b:
        # A client on B; a customer writes through A's webhook.
        with reading(b.events_url(setup.token, since=0), b.base) as on_b:
            on_b.ping()
            began = customer_writes(a, setup, "Hello from A")
            arrival(on_b, "Hello from A", after=began)
            # The hubs are listening now; how fast does the next one cross?
            began = customer_writes(a, setup, "Anyone there?")
            took = arrival(on_b, "Anyone there?", after=began)
            if REDIS_URL:
                assert took < CROSSES_WITHIN, f"A to B took {took:.2f} s through Redis"
        seen_on_b = on_b.received()
        wait_for(lambda: connection_count(desk) == 0, timeout=30, what="B to let the client go")
        assert inbound_texts(seen_on_b) == ["Hello from A", "Anyone there?"]
        assert as_log(seen_on_b) == visible_log(desk, setup, after=0)[: len(as_log(seen_on_b))]
        last = seqs(seen_on_b)[-1]

        # While the client is away, customers write through both instances.
        missed = ["Away one", "Away two", "Away three"]
        for server, text in zip((a, b, a), missed, strict=True):
            customer_writes(server, setup, text)

        # It comes back to the other instance, A, from where it stopped.
        with reading(a.events_url(setup.token, since=last), a.base) as on_a:
            # The pong follows the whole replay: connect() sends it before any frame is
            # read; live events may come too.
            on_a.ping()
            expected = visible_log(desk, setup, after=last)
            replayed = on_a.until(
                lambda f: bool(seqs(f)) and seqs(f)[-1] >= expected[-1][0],
                timeout=30,
                what="the replay",
            )
            assert as_log(replayed) == expected, summary(replayed)
            assert inbound_texts(replayed) == missed
            types = [type for _, type in expected]
            assert types.count("presence.changed") == 2, "offline on leaving B, online on A"

            # Then live, from the instance it is not connected to.
            began = customer_writes(b, setup, "Back live")
            took = arrival(on_a, "Back live", after=began)
            if REDIS_URL:
                assert took < CROSSES_WITHIN, f"B to A took {took:.2f} s through Redis"
            received = on_a.received()

        assert inbound_texts(received) == [*missed, "Back live"]
        got = as_log(received)
        assert got == visible_log(desk, setup, after=last)[: len(got)], summary(received)
        assert [seq for seq, _ in got] == list(range(last + 1, last + 1 + len(got))), (
            "one gap-free, duplicate-free run of seq"
        )
    a.assert_no_traceback()
    b.assert_no_traceback()
