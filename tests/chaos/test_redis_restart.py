"""Redis restarted under load (reliability point 5).

Two app instances share one PostgreSQL and one Redis; a provider posts webhooks to both
continuously; token-authenticated clients listen on both. Redis is killed and started
again. Pass: every message acknowledged 2xx is stored, once; the sockets stay (or come
back within 10 s); each client ends with every event it may see, in order, none twice;
and once Redis is back, events cross between the instances through it again within 10 s
(the log is read on a timer far longer than the test, so nothing else carries them), and
both instances report ready.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.chaos import (
    App,
    Crowd,
    PrivatePostgres,
    PrivateRedis,
    RetryingProvider,
    Scale,
    Socket,
    assert_acknowledged_stored_once,
    chaos_desk,
    log_state,
    running,
    set_up_desk,
    visible_seqs,
)
from tests.support.processes import wait_for

WITHIN = 10.0  # seconds: the reconnect and recovery bound of the guarantee
POLL_NEVER = "600"  # the hubs' timer read of the log, longer than the test


def ready(app: App) -> bool:
    try:
        return httpx.get(f"{app.base}/readyz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def all_reached(sockets: list[Socket], seq: int) -> Callable[[], bool]:
    return lambda: all(s.last() >= seq for s in sockets)


def test_redis_restart_under_load_loses_nothing(
    tmp_path: Path,
    chaos_postgres: PrivatePostgres,
    chaos_redis: PrivateRedis,
    chaos_scale: Scale,
) -> None:
    url = chaos_postgres.create_database()
    desk = chaos_desk(
        tmp_path / "desk", url, REDIS_URL=chaos_redis.url, CHATDESK_EVENTS_POLL=POLL_NEVER
    )
    setup = set_up_desk(desk)
    a, b = App(desk, "instance-a"), App(desk, "instance-b")
    # Those who see the customers' messages: every socket then has a steady stream.
    watchers = [setup.people["sam"], setup.people["sue"], setup.people["alice"]]
    provider = RetryingProvider(lambda: [a.base, b.base], setup.channel_id, rate=chaos_scale.rate)
    crowd = Crowd([a.port, b.port])
    with running(a, b):
        try:
            crowd.add(watchers, chaos_scale.sockets)
            crowd.wait_connected(timeout=60)
            provider.start()
            time.sleep(chaos_scale.load_before)

            opened_before = sum(s.opened for s in crowd.sockets)
            chaos_redis.stop()
            down_at = time.monotonic()
            time.sleep(chaos_scale.redis_down)
            chaos_redis.start()
            back_at = time.monotonic()

            # Every event numbered by the time Redis came back reaches every socket.
            newest_at_return = log_state(url)["newest"]
            wait_for(
                all_reached(crowd.sockets, newest_at_return),
                timeout=60,
                what="every socket to get the events of the outage",
            )
            caught_up_after = time.monotonic() - back_at

            time.sleep(chaos_scale.load_after)
            provider.drain(timeout=60)

            # Events cross through Redis again, both ways (the timer never reads the log).
            crossings = {}
            for source, target in ((a, b), (b, a)):
                on_target = [s for s in crowd.sockets if s.port == target.port]
                assert on_target, f"no socket on {target.name}"
                began = time.monotonic()
                provider.post_now(f"across to {target.name}", source.base)
                marker_seq = log_state(url)["newest"]
                wait_for(
                    all_reached(on_target, marker_seq),
                    timeout=60,
                    what=f"the marker from {source.name} on {target.name}",
                )
                crossings[f"{source.name}->{target.name}"] = time.monotonic() - began
            wait_for(lambda: ready(a) and ready(b), timeout=WITHIN, what="both to be ready")

            state = log_state(url)
            assert state["unnumbered"] == 0, state
            expected = visible_seqs(desk, setup, upto=state["newest"])
            crowd.wait_caught_up(expected, timeout=60)
            problems = crowd.problems(expected, upto=state["newest"])
        finally:
            provider.close()
            crowd.close()

    acked = assert_acknowledged_stored_once(url, setup.channel_id, provider)
    assert problems == [], problems[:10]
    gaps = crowd.gaps()
    assert all(gap < WITHIN for gap in gaps), sorted(gaps)[-5:]
    assert caught_up_after < WITHIN, f"caught up {caught_up_after:.1f} s after Redis returned"
    assert all(took < WITHIN for took in crossings.values()), crossings
    reopened = sum(s.opened for s in crowd.sockets) - opened_before
    print(
        f"\nredis restart: {len(crowd.sockets)} sockets, {len(acked)} webhooks "
        f"({dict(provider.statuses())}), down {back_at - down_at:.1f} s, "
        f"{reopened} reconnects (longest {max(gaps, default=0):.2f} s), "
        f"caught up {caught_up_after:.2f} s after Redis returned, crossings "
        + ", ".join(f"{k} {v:.2f} s" for k, v in crossings.items())
    )
    for app in (a, b):
        assert "Traceback" not in app.output(), app.output()[-3000:]
