"""A rolling restart of two app instances with many live sockets (reliability point 8).

Two instances share one PostgreSQL and one Redis; sockets of four people (two
supervisors, an agent who sees the Sales tickets, an agent of another department who
sees only who is online) are spread over both; a provider posts webhooks to whichever
instance is up. A is stopped (SIGTERM, as an orchestrator does), its sockets come back on
B with ``?since=``; A is started again; then B is stopped, and so on. Pass: every socket
is back within 30 s each time, and in the end each has exactly the events its person may
see, in order, none twice, none missing; every webhook acknowledged is stored once.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.support.chaos import (
    App,
    Crowd,
    PrivatePostgres,
    PrivateRedis,
    RetryingProvider,
    Scale,
    assert_acknowledged_stored_once,
    chaos_desk,
    log_state,
    running,
    set_up_desk,
    visible_seqs,
)

RECONNECT_WITHIN = 30.0  # seconds


def test_rolling_restart_every_socket_returns_and_misses_nothing(
    tmp_path: Path,
    chaos_postgres: PrivatePostgres,
    chaos_redis: PrivateRedis,
    chaos_scale: Scale,
) -> None:
    url = chaos_postgres.create_database()
    desk = chaos_desk(tmp_path / "desk", url, REDIS_URL=chaos_redis.url)
    setup = set_up_desk(desk)
    a, b = App(desk, "instance-a"), App(desk, "instance-b")
    apps = [a, b]
    people = list(setup.people.values())
    provider = RetryingProvider(
        lambda: [app.base for app in apps if app.running()],
        setup.channel_id,
        rate=chaos_scale.rate,
    )
    crowd = Crowd([a.port, b.port])
    rounds: list[dict[str, float]] = []
    with running(a, b):
        try:
            # Opened over a while, as people arrive; about 50 a second.
            ramp = chaos_scale.rolling_sockets / 50
            crowd.add(people, chaos_scale.rolling_sockets, ramp=ramp)
            crowd.wait_connected(timeout=ramp + 120)
            provider.start()
            time.sleep(chaos_scale.load_before)
            for turn in range(chaos_scale.rolling_rounds):
                app = apps[turn % 2]
                on_it = sum(1 for s in crowd.sockets if s.port == app.port)
                began = time.monotonic()
                stopped_in = app.stop(signal.SIGTERM)
                crowd.wait_connected(timeout=RECONNECT_WITHIN + 30)
                all_back = time.monotonic() - began
                app.start()
                rounds.append(
                    {"sockets moved": on_it, "stop took": stopped_in, "all back after": all_back}
                )
                time.sleep(chaos_scale.load_after)
            provider.drain(timeout=120)
            state = log_state(url)
            assert state["unnumbered"] == 0, state
            expected = visible_seqs(desk, setup, upto=state["newest"])
            crowd.wait_caught_up(expected, timeout=120)
            problems = crowd.problems(expected, upto=state["newest"])
        finally:
            provider.close()
            crowd.close()

    acked = assert_acknowledged_stored_once(url, setup.channel_id, provider)
    assert problems == [], problems[:10]
    gaps = sorted(crowd.gaps())
    assert gaps, "the sockets were moved"
    assert gaps[-1] < RECONNECT_WITHIN, gaps[-5:]
    assert state["newest"] - state["oldest"] + 1 == state["events"], "seq has no gap"
    print(
        f"\nrolling restart: {len(crowd.sockets)} sockets, {len(acked)} webhooks "
        f"({dict(provider.statuses())}), {len(gaps)} reconnects, median "
        f"{gaps[len(gaps) // 2]:.2f} s, longest {gaps[-1]:.2f} s; rounds: "
        + "; ".join(", ".join(f"{k} {v:.1f}" for k, v in r.items()) for r in rounds)
    )
