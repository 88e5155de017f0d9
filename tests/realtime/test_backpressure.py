"""Backpressure over a real server: clients that stop reading are let go (their Connection
rows deleted, ``resync`` and close 4429 queued for whenever they read again) while a
healthy client of the same instance receives every event, and the server's memory stays
bounded however much the stalled clients leave unread."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import Desk
from tests.support.sockets import (
    DeskSetup,
    Frame,
    Reader,
    Server,
    StalledClient,
    connection_count,
    inbound_texts,
    latest_seq,
    post_webhook,
    reading,
    seqs,
    serving,
    set_up,
    summary,
    visible_log,
    whatsapp_texts,
)

# The server's CHATDESK_WS_BUFFER: how many frames a connection may fall behind.
BUFFER = 50
# Each round, one webhook brings this many messages of this size; the next round waits
# until the healthy client has them all, so no burst comes near BUFFER.
PER_WEBHOOK = 10
TEXT_SIZE = 200_000  # ten make a webhook of 2 MB, under Django's 2.5 MB request limit
ROUNDS = 150  # 300 MB of events in all

# A server that kept the frames a stalled client does not read (an unbounded buffer, or a
# transport that queues whatever the socket will not take) would hold nearly the whole
# flood: the stalled sockets and their kernel buffers absorb only a few MB. With BUFFER
# made unbounded it grew by 350 MB. One that lets such clients go holds at most BUFFER
# frames per connection; what remains is the allocator's (glibc keeps freed blocks of this
# size for reuse rather than return them): 40 to 75 MB measured. The limit lies between.
RSS_GROWTH_LIMIT_KIB = 200 * 1024

REDIS_URL = os.environ.get("REDIS_URL", "")


@pytest.fixture
def flooded_desk(desk: Desk) -> Iterator[Desk]:
    """``desk``; an SQLite file, some 600 MB after the flood, is deleted afterwards
    rather than kept with pytest's last runs."""
    yield desk
    if desk.url.startswith("sqlite:///"):
        database = Path(desk.url.removeprefix("sqlite:///"))
        for path in database.parent.glob(database.name + "*"):
            path.unlink()


def flood_round(server: Server, setup: DeskSetup, healthy: Reader, n: int, sent: list[str]) -> None:
    texts = [f"flood {n}.{m} " + "x" * TEXT_SIZE for m in range(PER_WEBHOOK)]
    post_webhook(server, setup, whatsapp_texts(*texts, first_id=f"wamid.flood.{n}"))
    sent.extend(texts)
    healthy.until(
        lambda frames: len(inbound_texts(frames)) >= len(sent), timeout=30, what=f"round {n}"
    )


def as_log(frames: list[Frame]) -> list[tuple[int, str]]:
    return [(frame["seq"], frame["type"]) for frame in frames if "seq" in frame]


def test_stalled_clients_are_let_go_while_a_healthy_one_gets_every_event(
    flooded_desk: Desk,
) -> None:
    desk = flooded_desk
    setup = set_up(desk)
    # The protocol's keepalive would also let the stalled clients go (1011), once the
    # flood outlasts its timeout on a slow machine: here only the buffer may.
    env = {"CHATDESK_WS_BUFFER": str(BUFFER), "CHATDESK_WS_PING_TIMEOUT": "600"}
    if REDIS_URL:
        env["REDIS_URL"] = REDIS_URL
    with (
        serving(desk, "server", **env) as server,
        # One stalled client is read as soon as the server lets it go; the other stays
        # unread to the end, holding up whatever the server would keep for it.
        StalledClient(server.events_url(setup.token), server.base) as first,
        StalledClient(server.events_url(setup.token), server.base),
    ):
        start = latest_seq(desk)
        with reading(server.events_url(setup.token, since=start), server.base) as healthy:
            healthy.ping()
            assert connection_count(desk) == 3
            rss_before = server.rss_kib()

            sent: list[str] = []
            let_go_after = None
            for n in range(ROUNDS):
                flood_round(server, setup, healthy, n, sent)
                if let_go_after is None and connection_count(desk) == 1:
                    let_go_after = len(sent)
                    stalled, close_code = first.read_to_the_end(timeout=30)
            rss_after = server.rss_kib()

            # The healthy client is still connected and has every event, in order, once.
            healthy.ping()
            expected = visible_log(desk, setup, after=start)
            received = healthy.until(
                lambda f: bool(seqs(f)) and seqs(f)[-1] >= expected[-1][0],
                timeout=30,
                what="the last event",
            )
            assert as_log(received) == expected
            assert inbound_texts(received) == sent
            assert "resync" not in [frame["type"] for frame in received]
            assert connection_count(desk) == 1

    # The server let the stalled clients go while the flood went on, without waiting for
    # them to read: their rows went, and the first, reading at last, found a run of the
    # stream, then resync, then the close.
    assert let_go_after is not None, "the stalled clients' rows were never deleted"
    assert let_go_after < len(sent)
    assert close_code == 4429, summary(stalled)
    assert stalled[-1] == {"type": "resync"}, summary(stalled[-3:])
    partial = as_log(stalled[:-1])
    assert len(partial) == len(stalled) - 1, summary(stalled)
    assert len(inbound_texts(stalled)) < let_go_after, "it had fallen behind"
    offset = [seq for seq, _ in expected].index(partial[0][0]) if partial else 0
    assert partial == expected[offset : offset + len(partial)], "no gap, no repeat"

    growth = rss_after - rss_before
    assert growth < RSS_GROWTH_LIMIT_KIB, f"the server grew by {growth // 1024} MB"
    server.assert_no_traceback()
