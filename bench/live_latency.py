"""Live latency: from a customer's webhook leaving the load generator to its
``message.created`` frame arriving at supervisors' sockets, with thousands of idle
authenticated sockets held open on the same server; then every measuring socket
reconnects with ``?since=`` and we count the events it still lacks.

The limit, measured in the same run on the same machine: a Redis PUBLISH reaching a
subscriber (redis-py) plus a bare PostgreSQL commit of one inserted row (psycopg), the two
steps no desk can avoid between a webhook and a socket.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis

from bench import harness
from bench.live_desk import (
    LiveDesk,
    cpu_seconds,
    post_message,
    server_errors,
    set_up,
    socket_holder,
)
from bench.live_profile import Sampler
from bench.live_sockets import Holders, HoldStatus, Listener

NAME = "live_latency"
TITLE = "Live latency: webhook to supervisors' sockets"

MEASURING = 3  # supervisors' sockets open through the whole step
SENDERS = 200  # customers per step: their first message starts a chat, the rest join it
PER_PROCESS = 1250  # idle sockets per holder process
POST_TIMEOUT = 120.0  # seconds a webhook may take to be answered
DRAIN = 60.0  # seconds the frames may take to arrive after the last send
LIMIT_SAMPLES = 1000

GOAL_SOCKETS, GOAL_RATE = 5000, 100
GOAL_P50_MS, GOAL_P99_MS = 25.0, 100.0

LADDER = [float(q) for q in range(0, 100)] + [99.5, 99.9, 100.0]


def run(ctx: harness.Context) -> dict[str, Any]:
    # First with no idle socket at all: what the idle sockets cost shows against it.
    socket_steps: list[int] = ctx.scale(smoke=[20], quick=[0, 2000], full=[0, 2000, 5000])
    rates: list[int] = ctx.scale(smoke=[10], quick=[50, 100], full=[50, 100])
    seconds: float = ctx.scale(smoke=2.0, quick=15.0, full=60.0)
    idle_users: int = ctx.scale(smoke=5, quick=100, full=100)
    open_within: float = ctx.scale(smoke=60.0, quick=180.0, full=600.0)
    # Inherited by the desk's processes, started below.
    file_limit = harness.raise_file_limit(max(socket_steps) + 2048)

    steps: list[dict[str, Any]] = []
    with ctx.desk("live") as stack:
        desk = set_up(stack, supervisors=MEASURING + 1, idle_users=idle_users)
        assert stack.server is not None
        server = socket_holder(stack.server.pid)
        ctx.log("   the limit: Redis publish to subscriber, a bare commit")
        limits = measure_limits(stack)
        holders = Holders(
            stack.ws_url,
            stack.base_url,
            desk.idle_tokens,
            PER_PROCESS,
            give_up_after=open_within,
        )
        try:
            held = 0
            for sockets in socket_steps:
                status = holders.add(sockets - held) if sockets > held else HoldStatus()
                held = sockets
                now = holders.status()
                ctx.log(
                    f"   {now.open_now} of {sockets} idle sockets open ({status.failed} "
                    f"not opened within {open_within:.0f} s; took {status.connect_seconds:.0f} s)"
                )
                for rate in rates:
                    profile = None
                    if ctx.mode != "smoke" and sockets == socket_steps[-1] and rate == rates[-1]:
                        profile = Sampler(
                            server, min(seconds, 30), ctx.work / f"live-{sockets}-{rate}.raw"
                        )
                    idle_before = holders.status().open_now if sockets else 0
                    step = asyncio.run(
                        measure_step(stack, desk, rate=rate, seconds=seconds, server=server)
                    )
                    step["sockets"] = sockets
                    step["idle_open"] = idle_before
                    step["idle_open_after"] = holders.status().open_now if sockets else 0
                    if profile is not None:
                        step["profile"] = profile.summary()
                    steps.append(step)
                    ctx.log(
                        f"   {sockets} sockets, {rate} msg/s: p50 {_ms(step['p50_ms'])}, "
                        f"p95 {_ms(step['p95_ms'])}, p99 {_ms(step['p99_ms'])}; "
                        f"{step['accepted']}/{step['sent']} accepted, "
                        f"{step['missing_after_catch_up']} missing after catch-up"
                    )
        finally:
            idle = holders.stop()
            errors = server_errors(stack.server.output()) if stack.server else {}
    figures = build_figures(steps, limits)
    return harness.result(
        NAME,
        TITLE,
        ctx,
        figures,
        steps=steps,
        limits=limits,
        idle_sockets=idle.as_dict(),
        server_errors=errors,
        file_limit=file_limit,
        settings={
            "seconds_per_step": seconds,
            "measuring_sockets": MEASURING,
            "idle_users": idle_users,
            "senders_per_step": SENDERS,
        },
        notes=build_notes(steps, limits, idle.as_dict(), idle_users, errors),
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


# --- One step: a fixed rate ----------------------------------------------------------


async def measure_step(
    stack: harness.Stack, desk: LiveDesk, *, rate: int, seconds: float, server: int
) -> dict[str, Any]:
    origin = stack.base_url
    tokens = desk.supervisor_tokens
    steady = [Listener(stack.ws_url, origin, token) for token in tokens[:MEASURING]]
    # One more supervisor leaves halfway through the step and comes back after it, to
    # catch up on what it missed from the log while the desk is under load.
    away = Listener(stack.ws_url, origin, tokens[MEASURING])
    await asyncio.gather(*(listener.open() for listener in [*steady, away]))

    tag = uuid.uuid4().hex[:8]
    count = max(1, round(rate * seconds))
    ids = [f"wamid.bench.{tag}.{n}" for n in range(count)]
    first_phone = 27_700_000_000 + int(tag[:6], 16) % 1_000_000 * 100
    senders = [str(first_phone + n % SENDERS) for n in range(count)]
    scheduled: dict[str, float] = {}
    late = 0.0
    cpu_before, started = cpu_seconds(server), time.monotonic()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=POST_TIMEOUT, limits=limits
    ) as client:
        # Open loop: each message leaves at its time whether or not the earlier ones were
        # answered, and its latency counts from that time.
        posts = []
        leaving: asyncio.Task[None] | None = None
        first = time.monotonic() + 0.2
        for n, message_id in enumerate(ids):
            at = first + n / rate
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late = max(late, -delay)
            scheduled[message_id] = at
            posts.append(
                asyncio.create_task(post_message(client, desk.channel_id, message_id, senders[n]))
            )
            if n == count // 2:
                leaving = asyncio.create_task(away.close())
        launched = time.monotonic()
        stored = await asyncio.gather(*posts)
        if leaving is not None:
            await leaving
    sent_for = launched - first
    outcomes = Counter(outcome for outcome, _ in stored)
    accepted = [
        message_id
        for message_id, (outcome, _) in zip(ids, stored, strict=True)
        if outcome == "stored"
    ]
    answers = sorted(
        (answered - scheduled[message_id]) * 1000
        for message_id, (outcome, answered) in zip(ids, stored, strict=True)
        if outcome == "stored"
    )

    deadline = time.monotonic() + DRAIN
    while time.monotonic() < deadline and any(
        len(listener.arrived.keys() & set(accepted)) < len(accepted) for listener in steady
    ):
        await asyncio.sleep(0.05)
    cpu = (cpu_seconds(server) - cpu_before) / (time.monotonic() - started)

    latencies = sorted(
        listener.arrived[message_id] - scheduled[message_id]
        for listener in steady
        for message_id in accepted
        if message_id in listener.arrived
    )
    live_missing = sum(
        1 for listener in steady for message_id in accepted if message_id not in listener.arrived
    )
    closed_by_server = [
        listener.closed_by_server
        for listener in [*steady, away]
        if listener.closed_by_server is not None
    ]
    disorder = sum(
        1
        for listener in [*steady, away]
        for a, b in zip(listener.seqs, listener.seqs[1:], strict=False)
        if b <= a
    )
    # Every measuring socket reconnects from the last seq it saw, as a browser does.
    missing = 0
    for listener in [*steady, away]:
        await listener.close()
        again = Listener(stack.ws_url, origin, listener.token)
        await again.open(since=listener.last_seq)
        await again.close()
        got = listener.arrived.keys() | again.arrived.keys()
        missing += sum(1 for message_id in accepted if message_id not in got)

    ms = [value * 1000 for value in latencies]
    return {
        "rate": rate,
        "seconds": seconds,
        "sent": count,
        "accepted": len(accepted),
        "not_accepted": {k: v for k, v in outcomes.items() if k != "stored"},
        "achieved_rate": round(count / sent_for, 1) if sent_for > 0 else None,
        "generator_late_ms": round(late * 1000, 1),
        "samples": len(ms),
        "p50_ms": harness.percentile(ms, 50),
        "p95_ms": harness.percentile(ms, 95),
        "p99_ms": harness.percentile(ms, 99),
        "max_ms": ms[-1] if ms else None,
        # The webhook's answer alone (the message stored and its event numbered).
        "webhook_p50_ms": harness.percentile(answers, 50),
        "webhook_p99_ms": harness.percentile(answers, 99),
        "missing_live": live_missing,
        "missing_after_catch_up": missing,
        "out_of_order_frames": disorder,
        "measuring_closed_by_server": closed_by_server,
        "server_cpu": round(cpu, 2),
        "server_rss_kib": harness.rss_kib(server),
        "ladder_ms": [
            [q, round(value, 3)]
            for q in LADDER
            if (value := harness.percentile(ms, q) if ms else None) is not None
        ],
        "per_second": per_second(accepted, scheduled, steady, first),
    }


def per_second(
    accepted: list[str], scheduled: dict[str, float], steady: list[Listener], first: float
) -> list[list[float | None]]:
    """[second of the step, p50 ms, p99 ms] of the messages sent in each second."""
    buckets: dict[int, list[float]] = {}
    for listener in steady:
        for message_id in accepted:
            if message_id in listener.arrived:
                second = int(scheduled[message_id] - first)
                latency = (listener.arrived[message_id] - scheduled[message_id]) * 1000
                buckets.setdefault(second, []).append(latency)
    return [
        [second, harness.percentile(values, 50), harness.percentile(values, 99)]
        for second, values in sorted(buckets.items())
    ]


# --- The limit -----------------------------------------------------------------------


def measure_limits(stack: harness.Stack) -> dict[str, Any]:
    commits = commit_times(stack.database_url, LIMIT_SAMPLES)
    found: dict[str, Any] = {
        "commit_p50_ms": harness.percentile(commits, 50),
        "commit_p99_ms": harness.percentile(commits, 99),
        "redis_p50_ms": None,
        "redis_p99_ms": None,
    }
    if stack.redis_url:
        trips = redis_round_trips(stack.redis_url, LIMIT_SAMPLES)
        found["redis_p50_ms"] = harness.percentile(trips, 50)
        found["redis_p99_ms"] = harness.percentile(trips, 99)
    # Not part of the limit: what opening a connection costs here, which the desk does
    # for every request and every socket's database call (no persistent connections).
    connects = connect_times(stack.database_url, 100)
    found["connect_p50_ms"] = harness.percentile(connects, 50)
    found["connect_p99_ms"] = harness.percentile(connects, 99)
    for q in ("p50", "p99"):
        parts = [found[f"commit_{q}_ms"], found[f"redis_{q}_ms"]]
        found[f"sum_{q}_ms"] = sum(p for p in parts if p is not None)
    return found


def commit_times(database_url: str, samples: int) -> list[float]:
    """Milliseconds for one inserted row and its commit, on the desk's database."""
    payload = "x" * 300  # about one event's size
    times = []
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE bench_commit (id bigserial PRIMARY KEY, payload text)")
        conn.commit()
        for _ in range(samples):
            began = time.perf_counter()
            conn.execute("INSERT INTO bench_commit (payload) VALUES (%s)", (payload,))
            conn.commit()
            times.append((time.perf_counter() - began) * 1000)
        conn.execute("DROP TABLE bench_commit")
        conn.commit()
    return times


def connect_times(database_url: str, samples: int) -> list[float]:
    """Milliseconds to open a PostgreSQL connection, run one query and close it."""
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        with psycopg.connect(database_url) as conn:
            conn.execute("SELECT 1")
        times.append((time.perf_counter() - began) * 1000)
    return times


def redis_round_trips(redis_url: str, samples: int) -> list[float]:
    """Milliseconds from PUBLISH to the message read by a subscriber on its own
    connection."""
    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    channel = f"bench-round-trip-{uuid.uuid4().hex}"
    payload = b"x" * 300
    times = []
    try:
        pubsub.subscribe(channel)
        pubsub.get_message(timeout=5)  # the subscription's confirmation
        for _ in range(samples):
            began = time.perf_counter()
            client.publish(channel, payload)
            while pubsub.get_message(timeout=5) is None:
                pass
            times.append((time.perf_counter() - began) * 1000)
    finally:
        pubsub.close()
        client.close()
    return times


# --- The report ----------------------------------------------------------------------


def build_figures(steps: list[dict[str, Any]], limits: dict[str, Any]) -> list[dict[str, Any]]:
    limit_label = "Redis publish→subscriber + one bare commit"
    figures = []
    for step in steps:
        where = f"{step['idle_open']:,} idle sockets, {step['rate']} msg/s"
        if step["idle_open"] < step["sockets"]:
            where = (
                f"{step['idle_open']:,} of {step['sockets']:,} idle sockets, {step['rate']} msg/s"
            )
        is_goal = step["sockets"] == GOAL_SOCKETS and step["rate"] == GOAL_RATE

        p50, p95, p99 = step["p50_ms"], step["p95_ms"], step["p99_ms"]
        text, met = _goal(
            is_goal, f"≤ {GOAL_P50_MS:.0f} ms", p50 is not None and p50 <= GOAL_P50_MS
        )
        figures.append(
            harness.figure(
                f"Webhook → supervisor socket p50 ({where})",
                unit="ms",
                ours=p50,
                limit=limits["sum_p50_ms"],
                limit_label=f"{limit_label} (p50)",
                higher_is_better=False,
                goal=text,
                met=met,
            )
        )
        figures.append(
            harness.figure(
                f"Webhook → supervisor socket p95 ({where})",
                unit="ms",
                ours=p95,
                higher_is_better=False,
                goal="",
                met=None,
            )
        )
        text, met = _goal(
            is_goal, f"≤ {GOAL_P99_MS:.0f} ms", p99 is not None and p99 <= GOAL_P99_MS
        )
        figures.append(
            harness.figure(
                f"Webhook → supervisor socket p99 ({where})",
                unit="ms",
                ours=p99,
                limit=limits["sum_p99_ms"],
                limit_label=f"{limit_label} (p99)",
                higher_is_better=False,
                goal=text,
                met=met,
            )
        )
        missing = step["missing_after_catch_up"]
        complete = step["accepted"] == step["sent"]
        accepted = "" if complete else f"; {step['accepted']:,} of {step['sent']:,} accepted"
        figures.append(
            harness.figure(
                f"Events missing after catch-up ({where}{accepted})",
                unit="events",
                ours=missing,
                higher_is_better=False,
                goal="0, every webhook accepted",
                met=missing == 0 and complete,
            )
        )
    return figures


def _goal(applies: bool, text: str, ok: bool) -> tuple[str, bool | None]:
    """The goal is set for one configuration (5,000 sockets, 100 msg/s) alone."""
    return (text, ok) if applies else ("", None)


def build_notes(
    steps: list[dict[str, Any]],
    limits: dict[str, Any],
    idle: dict[str, Any],
    idle_users: int,
    errors: dict[str, int],
) -> list[str]:
    notes = [
        f"Latency runs from the time each webhook was scheduled to leave (an open-loop "
        f"generator) to its `message.created` frame's arrival at each of {MEASURING} "
        f"supervisors' sockets in the load generator's process. Each step's {SENDERS} "
        f"customers start a chat (an unassigned ticket) with their first message and "
        f"write into it after that.",
        f"The idle sockets belong to {idle_users} agents in no department, opened from "
        f"separate processes and pinging every 20 s as the browser does: each costs the "
        f"server its heartbeats and a visibility check of every event, but is sent "
        f"presence changes only. Supervisors' sockets would each be sent every chat event.",
        "After each step every measuring socket reconnects with `?since=` its last seq "
        "(one of them left halfway through the step and catches up on half of it); "
        "'missing' counts accepted messages whose event it saw neither live nor in the "
        "replay.",
        f"The limit: Redis publish→subscriber p50 {_ms(limits['redis_p50_ms'])}, p99 "
        f"{_ms(limits['redis_p99_ms'])}; a one-row insert and commit p50 "
        f"{_ms(limits['commit_p50_ms'])}, p99 {_ms(limits['commit_p99_ms'])}. Opening a "
        f"PostgreSQL connection (and one query) took p50 {_ms(limits['connect_p50_ms'])}, "
        f"p99 {_ms(limits['connect_p99_ms'])}.",
    ]
    if idle["failed"] or idle["dropped"]:
        notes.append(
            f"Idle sockets: {idle['failed']} did not open (errors {idle['errors']}), "
            f"{idle['dropped']} were closed by the server while held (close codes "
            f"{idle['close_codes']})."
        )
    if errors:
        notes.append(f"The server logged these errors (count): {errors}.")
    for step in steps:
        where = f"{step['idle_open']:,} idle sockets, {step['rate']} msg/s"
        if step["idle_open"] < step["sockets"]:
            where = (
                f"{step['idle_open']:,} of {step['sockets']:,} idle sockets, {step['rate']} msg/s"
            )
        if step["idle_open_after"] < step["idle_open"]:
            notes.append(
                f"{where}: {step['idle_open'] - step['idle_open_after']} idle sockets were "
                f"closed by the server during the step."
            )
        if step["accepted"] != step["sent"]:
            notes.append(
                f"{where}: {step['sent'] - step['accepted']} webhooks not accepted "
                f"({step['not_accepted']}; the client waits {POST_TIMEOUT:.0f} s for an answer)."
            )
        if step["missing_live"] or step["out_of_order_frames"]:
            notes.append(
                f"{where}: {step['missing_live']} frames had not arrived live within "
                f"{DRAIN:.0f} s of the last send; {step['out_of_order_frames']} out of order."
            )
        if step["generator_late_ms"] > 50:
            notes.append(
                f"{where}: the load generator fell up to {step['generator_late_ms']:.0f} ms "
                f"behind its schedule (the latency counts from the schedule)."
            )
        notes.append(
            f"{where}: the server process used {step['server_cpu']:.2f} CPU cores "
            f"(of {harness.machine()['cpus']}); its resident memory {step['server_rss_kib']:,} KiB."
        )
        profile = step.get("profile")
        if profile:
            threads = ", ".join(f"{name} {share:.0%}" for name, share in profile["threads"].items())
            ours = ", ".join(
                f"`{item['function']}` {item['share']:.0%}" for item in profile["ours"][:6]
            )
            own = ", ".join(
                f"`{item['function']}` {item['share']:.0%}" for item in profile["own"][:6]
            )
            notes.append(
                f"{where}, py-spy on the server ({profile['samples']} samples): by thread "
                f"{threads}; in our code (callees included) {ours}; at the top of the "
                f"stack {own}."
            )
    return notes


def plot(result: dict[str, Any], out_dir: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    figure, axes = plt.subplots(figsize=(7, 4))
    for step in result["steps"]:
        if not step["ladder_ms"]:
            continue
        qs, values = zip(*step["ladder_ms"], strict=True)
        axes.plot(values, qs, label=f"{step['idle_open']:,} sockets, {step['rate']} msg/s")
    limits = result["limits"]
    axes.axvline(limits["sum_p50_ms"], color="grey", linestyle=":", label="limit (p50)")
    axes.set_xscale("log")
    axes.set_xlabel("webhook → supervisor socket (ms, log scale)")
    axes.set_ylabel("percentile")
    axes.set_title("Live latency: cumulative distribution")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    name = f"{NAME}_cdf.png"
    figure.savefig(out_dir / name, dpi=110)
    plt.close(figure)
    made.append((name, "Live latency: the distribution per configuration (log scale)."))

    figure, axes = plt.subplots(figsize=(7, 4))
    for step in result["steps"]:
        if not step["per_second"]:
            continue
        seconds, _, p99 = zip(*step["per_second"], strict=True)
        axes.plot(seconds, p99, label=f"{step['idle_open']:,} sockets, {step['rate']} msg/s")
    axes.set_yscale("log")
    axes.set_xlabel("second of the step")
    axes.set_ylabel("p99 of the second's messages (ms)")
    axes.set_title("Live latency over each step")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    name = f"{NAME}_over_time.png"
    figure.savefig(out_dir / name, dpi=110)
    plt.close(figure)
    made.append((name, "Live latency: p99 of each second's messages through each step."))
    return made
