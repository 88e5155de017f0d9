"""Ingest: how many signed WhatsApp webhooks a second the desk stores, and the same for the
least a correct server could do (``bench/minimal_app.py``) on the same PostgreSQL, in one run.

Each webhook carries one text message with a unique id, as Meta sends it, signed with the
channel's app secret; the senders cycle through a fixed set of customers, so most messages
join a conversation already open (a customer writes several times) and some start one. The
rates rise step by step; each step offers its rate open loop for a fixed time (see
``bench/ingest_load.py``) and is sustained when every request got 200 and the p99 latency,
counted from the scheduled send, is at most 250 ms. The ladder stops at the first step that
is not sustained. Afterwards the stored rows are counted against the accepted requests.

The desk runs as an operator runs it (``chatdesk serve`` and two ``chatdesk worker``); the
channel has no automatic replies and no agent is online, so every message is stored on a
ticket and nothing is sent back: this measures taking messages in, not sending.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from bench import harness
from bench.ingest_load import QUANTILES, Step, http_request, run_step
from bench.meta_payloads import text_webhook

NAME = "ingest"
TITLE = "Ingest: signed WhatsApp webhooks"

APP_SECRET = "bench-meta-app-secret"
PHONE_NUMBER_ID = "106540352242922"
P99_MS = 250.0
GOAL_RATE = 500.0
GOAL_RATIO = 0.6
SENDERS = 1000
# The most connections the load generator opens: the desk takes a PostgreSQL connection per
# request in progress, and the server's 100 are shared with everything else running.
# Requests beyond wait for a free connection, and that wait counts in their latency.
MAX_CONNECTIONS = 32
# Web server processes in the second run of the desk (`chatdesk serve --workers`): one per
# core of the machine the figures are published from.
SERVE_WORKERS = 2
LIMIT_LABEL = (
    "a minimal ASGI app: the same signature check and INSERT … ON CONFLICT DO NOTHING "
    "(psycopg, 8 connections), same PostgreSQL"
)


def ladder(ctx: harness.Context) -> list[int]:
    return ctx.scale(
        smoke=[20, 40],
        # Fine steps where the desk tops out, coarse ones above for the minimal app.
        quick=[10, 25, 50, 75, 100, 150, 200, 400, 800, 1600, 3200],
        full=[
            10,
            25,
            50,
            75,
            100,
            150,
            200,
            300,
            400,
            500,
            600,
            700,
            800,
            1000,
            1200,
            1400,
            1600,
            2000,
            2500,
            3200,
        ],
    )


def step_seconds(ctx: harness.Context) -> float:
    """How long each step of the ladder offers its rate."""
    return ctx.scale(smoke=2.0, quick=5.0, full=60.0)


def webhook_body(message_id: str, sender: str, text: str) -> bytes:
    return text_webhook(message_id, sender, text, phone_number_id=PHONE_NUMBER_ID)


def signed_requests(base_url: str, channel_id: int, prefix: str, count: int) -> list[bytes]:
    """``count`` signed webhook requests with ids ``{prefix}.{n}``."""
    host = base_url.removeprefix("http://")
    requests = []
    for n in range(count):
        sender = f"2782{5_000_000 + n % SENDERS:07d}"
        body = webhook_body(f"{prefix}.{n}", sender, f"Hello, this is message {n}.")
        digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        requests.append(
            http_request(
                f"/webhooks/whatsapp/{channel_id}",
                body,
                {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"},
                host,
            )
        )
    return requests


def climb(
    ctx: harness.Context, who: str, base_url: str, channel_id: int, run_id: str
) -> list[tuple[str, Step]]:
    """Offer each rate of the ladder in turn until one is not sustained; each step's id
    prefix and what it produced. A short warm-up first (not counted): the first requests
    pay for imports and caches filling."""
    seconds = step_seconds(ctx)
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    warm_up = signed_requests(
        base_url,
        channel_id,
        f"wamid.warmup-{run_id}-{who}",
        ctx.scale(smoke=10, quick=100, full=200),
    )
    # Every web process must have served some before the first step counts.
    run_step(host, int(port), warm_up, 20, max_connections=MAX_CONNECTIONS)
    steps = []
    for rate in ladder(ctx):
        prefix = f"wamid.bench-{run_id}-{who}-{rate}"
        requests = signed_requests(base_url, channel_id, prefix, round(rate * seconds))
        step = run_step(host, int(port), requests, rate, max_connections=MAX_CONNECTIONS)
        steps.append((prefix, step))
        ok = step.sustained(P99_MS)
        ctx.log(
            f"   {who} {rate}/s: {step.accepted}/{len(step.outcomes)} accepted, "
            f"p50 {step.latency_ms(50) or 0:.0f} ms, p99 {step.latency_ms(99) or 0:.0f} ms, "
            f"{step.throughput:.0f}/s{'' if ok else '  (not sustained)'}"
        )
        if not ok:
            break
        time.sleep(ctx.scale(smoke=0.2, quick=1.0, full=3.0))  # let the server settle
    return steps


def count_rows(database_url: str, table: str, prefixes: list[str]) -> dict[str, int]:
    """Stored rows per id prefix, once the count has stopped moving (a request that timed
    out at the client may still be committing)."""
    query = sql.SQL("SELECT count(*) FROM {} WHERE provider_message_id LIKE %s").format(
        sql.Identifier(table)
    )

    def counts() -> dict[str, int]:
        found = {}
        with psycopg.connect(database_url) as conn:
            for prefix in prefixes:
                row = conn.execute(query, (prefix + ".%",)).fetchone()
                found[prefix] = int(row[0]) if row else 0
        return found

    last = counts()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(1)
        now = counts()
        if now == last:
            break
        last = now
    return last


def check_rows(steps: list[tuple[str, Step]], rows: dict[str, int]) -> tuple[int, list[dict]]:
    """How many rows disagree with the answers: in a step where every request was
    accepted, rows must equal requests; in any step, every accepted request must be stored
    (a request that timed out may or may not have been)."""
    wrong = 0
    detail = []
    for prefix, step in steps:
        stored = rows[prefix]
        if step.errors == 0:
            wrong += abs(stored - step.accepted)
        else:
            wrong += max(0, step.accepted - stored) + max(0, stored - len(step.outcomes))
        detail.append(
            {"offered_rate": step.offered_rate, "accepted": step.accepted, "rows": stored}
        )
    return wrong, detail


def failure_reasons(stack: harness.Stack) -> list[str]:
    """What the desk's server logged about the requests it did not accept: the distinct
    error lines, most frequent first (the answers' statuses are in the steps)."""
    if stack.server is None:
        return []
    reasons: Counter[str] = Counter()
    for line in stack.server.output().splitlines():
        if " ERROR " in line or " WARNING " in line:
            # Drop the timestamp: the same reason at different times counts once.
            reasons[line.split(" ", 2)[-1][:300]] += 1
    return [
        f"The desk's server logged this {count} times: {reason}"
        for reason, count in reasons.most_common(3)
    ]


def highest_sustained(steps: list[tuple[str, Step]]) -> float:
    return max((s.offered_rate for _, s in steps if s.sustained(P99_MS)), default=0.0)


def create_channel(stack: harness.Stack) -> int:
    document = stack.query(
        f"""
        import json
        from chatdesk.providers.models import Channel
        from chatdesk.routing.models import Department
        department = Department.objects.create(name="Sales")
        channel = Channel.objects.create(
            kind="whatsapp", name="WhatsApp", department=department,
            out_of_hours_reply="", queue_reply="",
            config={{"phone_number_id": "{PHONE_NUMBER_ID}",
                     "graph_api_url": "http://127.0.0.1:9/v21.0"}},
            secrets={{"access_token": "bench", "app_secret": "{APP_SECRET}",
                      "verify_token": "bench"}},
        )
        print(json.dumps({{"channel": channel.pk}}))
        """
    )
    return int(document["channel"])


def queries_per_message(stack: harness.Stack, channel_id: int) -> dict[str, int]:
    """The SQL statements one webhook costs the desk, counted inside Django: for a
    customer's first message (a new chat) and for one joining their open conversation."""
    posts = []
    for label, n in (("a new chat", 0), ("a message joining a conversation", 1)):
        body = webhook_body(f"wamid.count.{n}", "27829999999", "Counting.")
        digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        posts.append((label, body, f"sha256={digest}"))
    return dict(
        stack.query(
            f"""
            import json
            from django.db import connection
            from django.test import Client
            from django.test.utils import CaptureQueriesContext
            client = Client(HTTP_HOST="127.0.0.1")
            counts = {{}}
            for label, body, signature in {posts!r}:
                with CaptureQueriesContext(connection) as captured:
                    response = client.post(
                        "/webhooks/whatsapp/{channel_id}", body,
                        content_type="application/json",
                        headers={{"X-Hub-Signature-256": signature}},
                    )
                assert response.status_code == 200, response.content
                counts[label] = len(captured.captured_queries)
            print(json.dumps(counts))
            """
        )
    )


def profile_desk(
    ctx: harness.Context, stack: harness.Stack, channel_id: int, rate: float
) -> list[str]:
    """Where the desk's server spends its time at ``rate``: py-spy attached while the rate
    is offered; the functions with the most samples on top of the stack."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists() or stack.server is None:
        return ["py-spy is not installed: no profile taken."]
    seconds = ctx.scale(smoke=2, quick=8, full=20)
    raw = stack.home / "profile.txt"
    recorder = subprocess.Popen(
        [
            str(spy),
            "record",
            "--format",
            "raw",
            "--output",
            str(raw),
            "--rate",
            "200",
            "--duration",
            str(seconds),
            "--nonblocking",
            "--pid",
            str(stack.server.pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    host, port = stack.base_url.removeprefix("http://").rsplit(":", 1)
    requests = signed_requests(
        stack.base_url, channel_id, f"wamid.profile-{uuid.uuid4().hex[:8]}", round(rate * seconds)
    )
    run_step(host, int(port), requests, rate, max_connections=MAX_CONNECTIONS)
    try:
        _, err = recorder.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        recorder.kill()
        return ["py-spy did not finish: no profile taken."]
    if recorder.returncode != 0 or not raw.exists():
        return [f"py-spy could not profile the server: {err.decode(errors='replace').strip()}"]
    return summarize_profile(raw.read_text())


# Where a sample is charged: the first frame, from the top of the stack, in one of these.
_AREAS = (
    ("psycopg", "waiting on PostgreSQL (psycopg)"),
    ("django/db/backends", "Django's database layer"),
    ("django/db/models", "the ORM building queries and rows"),
    ("chatdesk/", "the desk's own code"),
    ("asgiref", "asgiref handing work between the event loop and threads"),
    ("django/", "Django's request handling"),
    ("uvicorn", "uvicorn"),
    ("threading.py", "idle threads"),
    ("concurrent/futures", "idle threads"),
    ("asyncio", "the event loop"),
)


def summarize_profile(collapsed: str) -> list[str]:
    """Share of samples per area and the busiest leaf functions, from py-spy's raw output
    (``frame;frame;… count`` per line, outermost frame first)."""
    areas: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        leaves[frames[-1]] += count
        mine = [f for f in frames if "chatdesk/" in f and not re.search(r"chatdesk/(core/|cli)", f)]
        if mine:
            ours[mine[-1]] += count
        area = "other"
        for frame in reversed(frames):
            matched = next((label for key, label in _AREAS if key in frame), None)
            if matched:
                area = matched
                break
        areas[area] += count
    if not total:
        return ["py-spy took no samples."]
    share = ", ".join(f"{label} {100 * n / total:.0f} %" for label, n in areas.most_common(6))
    busiest = "; ".join(f"{frame} {100 * n / total:.0f} %" for frame, n in leaves.most_common(5))
    by_ours = "; ".join(f"{frame} {100 * n / total:.0f} %" for frame, n in ours.most_common(6))
    return [
        f"Profile of the desk's server (py-spy, {total} samples, all threads): {share}.",
        f"Busiest functions: {busiest}.",
        f"Charged to the innermost function of the desk's own code (its queries included): "
        f"{by_ours}.",
    ]


def start_minimal_app(
    ctx: harness.Context, database_url: str, home: Path
) -> tuple[harness.Process, str]:
    port = harness.free_port()
    log = home / "minimal-app.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CHATDESK_", "MINIMAL_"))},
        "MINIMAL_DATABASE_URL": database_url,
        "MINIMAL_APP_SECRET": APP_SECRET,
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.minimal_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            cwd=harness.ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process = harness.Process(popen, log)
    base_url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if popen.poll() is not None:
            raise RuntimeError(f"the minimal app exited:\n{process.output()}")
        try:
            return httpx.get(base_url + "/", timeout=5).status_code == 404
        except httpx.TransportError:
            return False

    harness.wait_for(ready, timeout=60, what="the minimal app to answer")
    return process, base_url


def run(ctx: harness.Context) -> dict[str, Any]:
    harness.raise_file_limit(8192)
    run_id = uuid.uuid4().hex[:8]
    notes: list[str] = []
    with ctx.desk("ingest", start=False) as stack:
        channel_id = create_channel(stack)
        stack.start()
        ctx.log("   the desk (chatdesk serve + 2 workers):")
        ours = climb(ctx, "desk", stack.base_url, channel_id, run_id)
        ours_rows = count_rows(stack.database_url, "chats_message", [prefix for prefix, _ in ours])
        ours_rate = highest_sustained(ours)
        queries = queries_per_message(stack, channel_id)
        notes.append(
            "SQL statements per webhook in the desk (counted inside Django, transaction "
            "control included): "
            + ", ".join(f"{n} for {label}" for label, n in queries.items())
            + "; the minimal app sends one. Each is a round trip to PostgreSQL, on a "
            "connection from the web server's pool."
        )
        if ctx.mode != "smoke" and ours_rate < GOAL_RATE:
            beyond = next((s.offered_rate for _, s in ours if not s.sustained(P99_MS)), None)
            if beyond is not None:
                ctx.log(f"   profiling the desk at {beyond:g}/s")
                notes += profile_desk(ctx, stack, channel_id, beyond)
        stack.stop()
        notes += failure_reasons(stack)

        ctx.log(f"   the desk with {SERVE_WORKERS} web processes (chatdesk serve --workers):")
        stack.start(serve_workers=SERVE_WORKERS)
        scaled = climb(ctx, "desk-x2", stack.base_url, channel_id, run_id)
        scaled_rows = count_rows(
            stack.database_url, "chats_message", [prefix for prefix, _ in scaled]
        )
        scaled_rate = highest_sustained(scaled)
        stack.stop()
        notes += failure_reasons(stack)

        ctx.log("   the minimal app (uvicorn, raw ASGI, psycopg):")
        minimal, minimal_url = start_minimal_app(ctx, stack.database_url, stack.home)
        try:
            limit = climb(ctx, "minimal", minimal_url, channel_id, run_id)
        finally:
            minimal.stop()
        limit_rows = count_rows(
            stack.database_url, "bench_minimal_message", [prefix for prefix, _ in limit]
        )

    limit_rate = highest_sustained(limit)
    ours_wrong, ours_detail = check_rows(ours, ours_rows)
    scaled_wrong, scaled_detail = check_rows(scaled, scaled_rows)
    limit_wrong, limit_detail = check_rows(limit, limit_rows)
    ratio = ours_rate / limit_rate if limit_rate else None
    if ours == [] or ours_rate == 0:
        notes.append("The desk sustained none of the rates offered.")
    if ratio is not None and ours_rate < GOAL_RATE:
        notes.append(
            f"Below the goal: the desk sustained {ours_rate:g} msg/s, the goal is "
            f"{GOAL_RATE:g} msg/s."
        )
    if ctx.mode != "smoke" and ours_rate < GOAL_RATE:
        notes.append(
            "What limits the desk: each webhook costs "
            f"{queries['a message joining a conversation']} to {queries['a new chat']} SQL "
            "statements in one transaction (the message with its contact, chat, routing "
            "check and live event, numbered before the commit under the desk-wide lock), "
            "each a round trip from the ORM to PostgreSQL, and Django's request handling "
            "around them: one `chatdesk serve` process runs it on one core, so latency climbs "
            "steeply once the offered rate exceeds what that core can do, and the numbering "
            "lock makes webhooks take turns through their commits. The minimal app sends one "
            "statement and no ORM. Django runs every synchronous view of a process in one "
            "thread, so one process also waits out each round trip to PostgreSQL; "
            f"`chatdesk serve --workers {SERVE_WORKERS}` overlaps those waits "
            f"({scaled_rate:g} msg/s here), on a machine whose two cores also run PostgreSQL "
            "and the load. Next remedies: numbering several requests' events in one pass, "
            "fewer statements per message (the routing check reads business hours and the "
            "agents online for every message on a ticket), and more cores."
        )
    if ratio is not None and ratio < GOAL_RATIO:
        notes.append(
            f"Below the goal: the desk reached {ratio:.2f} of the minimal app's rate, the goal "
            f"is {GOAL_RATIO:g}."
        )
    if limit and limit[-1][1].sustained(P99_MS):
        notes.append(
            "The minimal app sustained the top of the ladder: its limit is at least that rate."
        )
    notes.append(
        f"Each step offers one rate for {step_seconds(ctx):g} s, open loop, "
        "one message per webhook from 1,000 customers in turn; a step is sustained with no "
        "error and p99 ≤ 250 ms, latency counted from the scheduled send. At most "
        f"{MAX_CONNECTIONS} connections are open at once (the desk takes a PostgreSQL "
        "connection per request in progress); a request waiting for one is late, and "
        "that counts in its latency."
    )
    notes.append(
        f"The machine has {os.cpu_count()} CPUs, shared by the server, its two workers, "
        "PostgreSQL, Redis and the load generator (one Python process with uvloop on "
        "loopback): on a small machine the load generator takes CPU from the server it "
        "measures, for both apps alike."
    )
    figures = [
        harness.figure(
            "ingest: highest rate sustained (p99 ≤ 250 ms, no error)",
            unit="msg/s",
            ours=ours_rate,
            limit=limit_rate or None,
            limit_label=LIMIT_LABEL,
            goal=f"≥ {GOAL_RATE:g} msg/s and ≥ {GOAL_RATIO:g} of the limit",
            met=ours_rate >= GOAL_RATE and ratio is not None and ratio >= GOAL_RATIO,
        ),
        harness.figure(
            f"ingest with `chatdesk serve --workers {SERVE_WORKERS}`: highest rate sustained",
            unit="msg/s",
            ours=scaled_rate,
            limit=limit_rate or None,
            limit_label=LIMIT_LABEL,
            goal=f"≥ {GOAL_RATE:g} msg/s and ≥ {GOAL_RATIO:g} of the limit",
            met=(
                scaled_rate >= GOAL_RATE
                and limit_rate > 0
                and scaled_rate / limit_rate >= GOAL_RATIO
            ),
        ),
        harness.figure(
            "ingest: stored rows that disagree with the answers",
            unit="rows",
            ours=ours_wrong + scaled_wrong,
            limit=None,
            limit_label=None,
            goal="0",
            met=ours_wrong == 0,
            higher_is_better=False,
        ),
    ]
    return harness.result(
        NAME,
        TITLE,
        ctx,
        figures,
        notes=notes,
        p99_ms_allowed=P99_MS,
        queries_per_message=queries,
        senders=SENDERS,
        quantiles=[q for q in QUANTILES],
        desk={
            "steps": [step.summary() for _, step in ours],
            "rows": ours_detail,
            "rows_wrong": ours_wrong,
        },
        desk_scaled={
            "serve_workers": SERVE_WORKERS,
            "steps": [step.summary() for _, step in scaled],
            "rows": scaled_detail,
            "rows_wrong": scaled_wrong,
        },
        minimal={
            "steps": [step.summary() for _, step in limit],
            "rows": limit_detail,
            "rows_wrong": limit_wrong,
        },
    )


def plot(result: dict[str, Any], out_dir: Path) -> list[tuple[str, str]]:
    """Latency (p50, p99) and achieved throughput against the offered rate, both apps; and
    each app's latency distribution at its highest sustained rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    def plain(*axes: Any) -> None:
        """Log axes labelled 10, 20, 50, 100 rather than powers of ten."""
        for axis in axes:
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            axis.set_minor_formatter(
                FuncFormatter(lambda value, _: f"{value:g}" if f"{value:g}"[0] in "25" else "")
            )

    out_dir.mkdir(parents=True, exist_ok=True)
    apps = [("desk", "Chat Desk", "tab:blue"), ("minimal", "minimal app (limit)", "tab:gray")]
    if "desk_scaled" in result:
        label = f"Chat Desk, {result['desk_scaled']['serve_workers']} web processes"
        apps.insert(1, ("desk_scaled", label, "tab:green"))
    written = []

    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label, colour in apps:
        steps = result[key]["steps"]
        rates = [s["offered_rate"] for s in steps]
        ax.plot(
            rates,
            [s["latency_ms"]["p50"] for s in steps],
            "o--",
            color=colour,
            label=f"{label} p50",
        )
        ax.plot(
            rates, [s["latency_ms"]["p99"] for s in steps], "o-", color=colour, label=f"{label} p99"
        )
    ax.axhline(
        result["p99_ms_allowed"], color="tab:red", linewidth=0.8, linestyle=":", label="p99 allowed"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered rate (webhooks/s)")
    ax.set_ylabel("latency (ms, from the scheduled send)")
    ax.set_title("Ingest latency against offered rate")
    plain(ax.xaxis, ax.yaxis)
    ax.legend(fontsize="small")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_dir / "ingest-latency.png", dpi=100)
    plt.close(fig)
    written.append(("ingest-latency.png", "Latency (p50, p99) against the offered rate."))

    fig, ax = plt.subplots(figsize=(7, 4))
    offered: list[float] = []
    for key, label, colour in apps:
        steps = result[key]["steps"]
        rates = [s["offered_rate"] for s in steps]
        offered += rates
        ax.plot(rates, [s["throughput"] for s in steps], "o-", color=colour, label=label)
    span = [min(offered, default=1), max(offered, default=1)]
    ax.plot(span, span, color="black", linewidth=0.6, linestyle=":", label="offered")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered rate (webhooks/s)")
    ax.set_ylabel("accepted per second")
    ax.set_title("Ingest throughput against offered rate")
    plain(ax.xaxis, ax.yaxis)
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_dir / "ingest-throughput.png", dpi=100)
    plt.close(fig)
    written.append(
        ("ingest-throughput.png", "Accepted webhooks per second against the offered rate.")
    )

    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label, colour in apps:
        steps = [
            s
            for s in result[key]["steps"]
            if s["errors"] == 0 and (s["latency_ms"]["p99"] or 0) <= result["p99_ms_allowed"]
        ]
        if not steps:
            continue
        step = steps[-1]
        names = list(step["latency_ms"])
        ax.plot(
            range(len(names)),
            [step["latency_ms"][n] for n in names],
            "o-",
            color=colour,
            label=f"{label} at {step['offered_rate']:g}/s",
        )
        ax.set_xticks(range(len(names)), names)
    ax.set_yscale("log")
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Latency distribution at each app's highest sustained rate")
    plain(ax.yaxis)
    ax.legend(fontsize="small")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_dir / "ingest-distribution.png", dpi=100)
    plt.close(fig)
    written.append(
        ("ingest-distribution.png", "Latency percentiles at each app's highest sustained rate.")
    )
    return written
