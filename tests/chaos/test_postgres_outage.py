"""PostgreSQL stopped under load (reliability point 6).

One app instance and one task worker on a PostgreSQL cluster of the test's own, with
Redis; a provider posts webhooks continuously and retries every one not answered 2xx, as
Meta does; clients listen. The cluster is shut down (every session cut off) and started
again. Pass: no webhook answered 2xx that is not stored; while the database is away the
answers are 503 (never a 4xx, which a provider would not retry, nor a bare 500); once it
is back every retried message is stored exactly once; and the app recovers without a restart: both
processes still run, the instance reports ready, live events flow again to every client,
complete and in order, and no event is left unnumbered (an event whose commit made it
just before the outage but whose numbering did not is numbered by the worker's sweep).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.chaos import (
    ACCESS_TOKEN,
    App,
    Crowd,
    PrivatePostgres,
    PrivateRedis,
    RetryingProvider,
    Scale,
    Setup,
    assert_acknowledged_stored_once,
    chaos_desk,
    log_state,
    running,
    set_up_desk,
    sql_one,
    visible_seqs,
)
from tests.support.fakes import FakeGraph
from tests.support.processes import wait_for
from tests.support.sockets import PHONE_NUMBER_ID

RECOVERS_WITHIN = 30.0  # seconds after the database is back


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID) as fake:
        yield fake


@pytest.fixture
def own_postgres() -> Iterator[PrivatePostgres]:
    """A cluster for this test alone: it is stopped in the middle."""
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def status_of(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=10).status_code
    except httpx.TransportError:
        return None


def unsettled(url: str) -> list[tuple[Any, ...]]:
    """Replies neither sent nor known to be in doubt (in flight when the database went,
    so perhaps sent: never sent again, settled by the provider's status callback)."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT id, status, error_code, in_flight_since, next_attempt_at FROM chats_message"
            " WHERE direction = 'out' AND status <> 'sent'"
            " AND coalesce(error_code, '') <> 'ambiguous'"
        ).fetchall()


def send_reply(web: App, setup: Setup, url: str) -> int:
    """Sam answers the newest chat through the API; the message's id."""
    chat = sql_one(url, "SELECT max(id) FROM chats_chat")
    response = httpx.post(
        f"{web.base}/api/v1/chats/{chat}/messages",
        json={"text": "Thanks, we are on it."},
        headers={"Authorization": f"Bearer {setup.people['sam'].token}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    message_id: int = response.json()["id"]
    return message_id


def test_postgres_outage_under_load_acknowledges_only_what_it_stored(
    tmp_path: Path,
    own_postgres: PrivatePostgres,
    chaos_redis: PrivateRedis,
    chaos_scale: Scale,
    graph: FakeGraph,
) -> None:
    url = own_postgres.create_database()
    desk = chaos_desk(
        tmp_path / "desk",
        url,
        REDIS_URL=chaos_redis.url,
        CHATDESK_OUTBOX_SWEEP_EVERY="1",
        CHATDESK_SEND_LEASE="3",
    )
    setup = set_up_desk(desk, graph_api_url=graph.graph_api_url)
    web, worker = App(desk, "web"), App(desk, "worker", kind="worker")
    people = list(setup.people.values())
    provider = RetryingProvider(lambda: [web.base], setup.channel_id, rate=chaos_scale.rate)
    crowd = Crowd([web.port])
    with running(web, worker):
        try:
            crowd.add(people, chaos_scale.sockets)
            crowd.wait_connected(timeout=60)
            provider.start()
            time.sleep(chaos_scale.load_before)

            own_postgres.stop()
            down_at = time.monotonic()
            time.sleep(chaos_scale.postgres_down)
            own_postgres.start()
            back_at = time.monotonic()

            # The instance is ready again, without a restart.
            wait_for(
                lambda: status_of(f"{web.base}/readyz") == 200,
                timeout=RECOVERS_WITHIN,
                what="/readyz to answer 200",
            )
            ready_after = time.monotonic() - back_at
            time.sleep(chaos_scale.load_after)
            provider.drain(timeout=120)
            stored_after = time.monotonic() - back_at

            # The worker works again: the reply, and the out-of-hours answers queued
            # around the outage, whose tasks the outage may have lost (the sweep queues
            # them again after the lease), are each sent, once.
            send_reply(web, setup, url)
            try:
                wait_for(
                    lambda: not unsettled(url),
                    timeout=RECOVERS_WITHIN,
                    what="the worker to send every reply",
                )
            except AssertionError as exc:
                raise AssertionError(
                    f"{exc} Left: {unsettled(url)}\n{worker.output()[-4000:]}"
                ) from None
            with psycopg.connect(url) as conn:
                replies: dict[int, str] = dict(
                    conn.execute(
                        "SELECT id, status FROM chats_message WHERE direction = 'out'"
                    ).fetchall()
                )
            references = Counter(body["biz_opaque_callback_data"] for body in graph.sent)
            assert set(references.values()) == {1}, references.most_common(3)
            sent = {f"chatdesk-{pk}" for pk, status in replies.items() if status == "sent"}
            assert sent <= set(references), sorted(sent - set(references))
            in_doubt = len(replies) - len(sent)

            # Live events flow again: a new message reaches every socket that sees it.
            provider.post_now("after the outage", web.base)
            crowd.wait_connected(timeout=RECOVERS_WITHIN)
            # The sweep numbers whatever lost its numbering to the outage.
            wait_for(
                lambda: log_state(url)["unnumbered"] == 0,
                timeout=RECOVERS_WITHIN,
                what="every event to be numbered",
            )
            state = log_state(url)
            expected = visible_seqs(desk, setup, upto=state["newest"])
            crowd.wait_caught_up(expected, timeout=60)
            problems = crowd.problems(expected, upto=state["newest"])
            # Numbered later than events committed after them: left over by the outage.
            stragglers = sql_one(
                url,
                "SELECT count(*) FROM realtime_liveevent e WHERE EXISTS (SELECT 1 FROM"
                " realtime_liveevent f WHERE f.id > e.id AND f.seq < e.seq)",
            )
            assert web.running(), web.output()[-3000:]
            assert worker.running(), f"the worker died:\n{worker.output()[-3000:]}"
        finally:
            provider.close()
            crowd.close()

    answers = provider.answers
    during = [
        answer.status
        for answer in answers
        if down_at <= answer.began and answer.at <= back_at and answer.status is not None
    ]
    refused = [a for a in answers if a.status is not None and 400 <= a.status < 500]
    assert not refused, f"4xx answers, which a provider would not retry: {refused[:5]}"
    assert during, "the provider posted while the database was away"
    # 503 with Retry-After: the desk knows the database is away, and says so.
    assert set(during) == {503}, Counter(during)
    acked = assert_acknowledged_stored_once(url, setup.channel_id, provider)
    assert state["newest"] - state["oldest"] + 1 == state["events"], "seq has no gap"
    assert problems == [], problems[:10]
    gaps = crowd.gaps()
    print(
        f"\npostgres outage: down {back_at - down_at:.1f} s, {len(acked)} webhooks, answers"
        f" {dict(provider.statuses())}, {len(during)} while down; ready {ready_after:.1f} s"
        f" and all stored {stored_after:.1f} s after it returned; {len(gaps)} socket"
        f" reconnects (longest {max(gaps, default=0):.1f} s); {stragglers} events numbered"
        f" after later ones; {len(replies)} replies sent, {in_doubt} in doubt"
    )
