"""Screens at scale: the lists and pages people keep open, over HTTP, on a desk loaded with a
year of history (a million chats and ten million messages in the full run), and the
PostgreSQL plan of every query they run.

The desk is loaded with COPY (``bench/loader.py``), started as an operator starts it, and
each screen is asked for one request at a time from this process: p50 and p95 after a
warm-up. The same requests then run once more inside Django with the queries captured, and
each SELECT is explained (``EXPLAIN (ANALYZE, BUFFERS)``); a plan that reads all the chats
or all the messages is reported.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import harness, loader

NAME = "screens"
TITLE = "Screens at scale"
GOAL_MS = 50.0
BIG_TABLES = ("chats_chat", "chats_message")
# A plan that reads at least this share of a big table's rows scans it, whatever the node.
WHOLE_TABLE = 0.5


def _screens(chat_id: int) -> list[tuple[str, str, str]]:
    """(label, path, who): ``supervisor`` or ``agent`` by session cookie, ``api`` by the
    supervisor's token."""
    screens = [(f"summary {tab}", f"/api/v1/chats/summary?tab={tab}", "api") for tab in TABS]
    screens += [(f"list {tab}", f"/api/v1/chats?tab={tab}", "api") for tab in TABS]
    screens.append(("messages", f"/api/v1/chats/{chat_id}/messages", "api"))
    screens.append(("supervisor console", "/supervisor/", "supervisor"))
    screens.append(("agent workspace", "/agent/", "agent"))
    return screens


TABS = ("chats", "closed", "tickets")

# Runs inside the desk (``chatdesk shell``): sessions for the two people, and each screen's
# queries captured and explained on the loaded database.
_SESSIONS = """
import json
from django.conf import settings
from django.test import Client
from chatdesk.accounts.models import User
cookies = {}
for name in %(names)r:
    client = Client()
    client.force_login(User.objects.get(username=name))
    cookies[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
print(json.dumps({"cookie": settings.SESSION_COOKIE_NAME, "values": cookies}))
"""

_EXPLAIN = """
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from chatdesk.accounts.models import User

out = {}
for label, path, who in %(screens)r:
    client = Client(HTTP_HOST="127.0.0.1")
    extra = {}
    if who == "api":
        extra["HTTP_AUTHORIZATION"] = "Bearer " + %(token)r
    else:
        client.force_login(User.objects.get(username=%(users)r[who]))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **extra)
    queries = []
    for query in captured.captured_queries:
        text = query["sql"]
        if not text.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + text)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        queries.append({"sql": text, "plan": plan[0]})
    out[label] = {"status": response.status_code, "queries": queries}
print(json.dumps(out))
"""


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [node]
    for child in node.get("Plans", []):
        nodes += _walk(child)
    return nodes


def plan_findings(plan: dict[str, Any], table_rows: dict[str, int]) -> list[str]:
    """What in one plan reads a whole big table: a sequential scan over it, or any scan
    whose rows (across loops) reach ``WHOLE_TABLE`` of it."""
    found = []
    for node in _walk(plan["Plan"]):
        relation = node.get("Relation Name")
        if relation not in BIG_TABLES:
            continue
        kind = node["Node Type"]
        read = node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
        read += node.get("Rows Removed by Filter", 0) * node.get("Actual Loops", 1)
        total = max(1, table_rows.get(relation, 1))
        if "Seq Scan" in kind:
            found.append(f"{kind} on {relation} ({read} of {total} rows)")
        elif read >= WHOLE_TABLE * total and total > 1000:
            index = node.get("Index Name", "")
            found.append(f"{kind} {index} on {relation} reads {read} of {total} rows")
    return found


def _time_screens(
    stack: harness.Stack,
    screens: list[tuple[str, str, str]],
    headers: dict[str, dict[str, str]],
    *,
    warmup: int,
    count: int,
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    with httpx.Client(base_url=stack.base_url, timeout=120) as client:
        for label, path, who in screens:
            samples = []
            for n in range(warmup + count):
                started = time.perf_counter()
                response = client.get(path, headers=headers[who])
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    log = stack.server.output()[-2000:] if stack.server else ""
                    raise RuntimeError(f"{label}: {path} answered {response.status_code}\n{log}")
                if n >= warmup:
                    samples.append(elapsed)
            timings[label] = samples
    return timings


def run(ctx: harness.Context) -> dict[str, Any]:
    sizes = ctx.scale(
        smoke=loader.scaled(2_000, 20_000),
        quick=loader.scaled(100_000, 1_000_000),
        full=loader.scaled(1_000_000, 10_000_000),
    )
    warmup, count = ctx.scale(smoke=(2, 10), quick=(5, 40), full=(5, 40))
    with ctx.desk("screens", start=False) as stack:
        ctx.log(f"   loading {sizes.chats} chats and about {sizes.messages} messages")
        loaded = loader.load(stack.database_url, sizes, log=ctx.log)
        with psycopg.connect(stack.database_url) as conn:
            table_rows = {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
                for table in BIG_TABLES
            }
        # A chat from the middle of the history: its messages are cold, as old ones are.
        chat_id = sizes.chats // 2
        agent = loaded.agents[0]
        users = {"supervisor": loaded.supervisor, "agent": agent}
        token = stack.token(loaded.supervisor)
        sessions = stack.query(_SESSIONS % {"names": list(users.values())})
        screens = _screens(chat_id)
        stack.start()
        cookie = sessions["cookie"]
        headers = {
            "api": {"Authorization": f"Bearer {token}"},
            **{
                who: {"Cookie": f"{cookie}={sessions['values'][name]}"}
                for who, name in users.items()
            },
        }
        ctx.log(f"   timing {len(screens)} screens, {count} requests each")
        timings = _time_screens(stack, screens, headers, warmup=warmup, count=count)
        ctx.log("   explaining their queries")
        explained = stack.query(_EXPLAIN % {"screens": screens, "token": token, "users": users})

    figures = []
    rows = []
    for label, path, who in screens:
        samples = timings[label]
        p50 = harness.percentile(samples, 50)
        p95 = harness.percentile(samples, 95)
        rows.append({"screen": label, "path": path, "as": who, "p50_ms": p50, "p95_ms": p95})
        figures.append(
            harness.figure(
                f"{label} p95 ({sizes.chats:,} chats)",
                unit="ms",
                ours=round(p95, 1) if p95 is not None else None,
                goal=f"p95 ≤ {GOAL_MS:.0f} ms at 1,000,000 chats",
                met=p95 is not None and p95 <= GOAL_MS,
                higher_is_better=False,
            )
        )
    figures.append(
        harness.figure(
            f"load {loaded.rows['chats_chat']:,} chats, {loaded.rows['chats_message']:,} messages",
            unit="s",
            ours=loaded.seconds["total"],
            goal="minutes, not hours",
            met=loaded.seconds["total"] < 3600,
            higher_is_better=False,
        )
    )

    plans = []
    scans: list[str] = []
    for label, _, _ in screens:
        for query in explained[label]["queries"]:
            findings = plan_findings(query["plan"], table_rows)
            plans.append(
                {
                    "screen": label,
                    "sql": query["sql"],
                    "ms": query["plan"].get("Execution Time"),
                    "findings": findings,
                    "plan": query["plan"],
                }
            )
            scans += [f"{label}: {finding}" for finding in findings]

    notes = [
        f"Loaded {loaded.rows['chats_chat']:,} chats, {loaded.rows['chats_message']:,} messages, "
        f"{loaded.rows['chats_contact']:,} contacts, {sizes.agents} agents and "
        f"{sizes.departments} departments in {loaded.seconds['total']:.0f} s "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in loaded.seconds.items() if k != 'total')}).",
        f"{count} sequential requests per screen after {warmup} warm-up; the API as a "
        f"supervisor (token), the console as a supervisor and the workspace as {agent} "
        "(session cookie).",
        f"{len(plans)} queries explained; "
        + (
            f"{len(scans)} read a whole chats or messages table: " + "; ".join(scans)
            if scans
            else "none reads the whole chats or messages table."
        ),
    ]
    slowest = sorted(plans, key=lambda p: -(p["ms"] or 0))[:3]
    notes += [
        f"Slowest query ({p['screen']}): {p['ms']:.1f} ms: {p['sql'][:160]}…" for p in slowest
    ]
    return harness.result(
        NAME,
        TITLE,
        ctx,
        figures,
        sizes=loaded.sizes,
        rows=loaded.rows,
        load_seconds=loaded.seconds,
        screens=rows,
        raw={label: [round(v, 2) for v in values] for label, values in timings.items()},
        plans=plans,
        notes=notes,
    )


def plot(result: dict[str, Any], out_dir: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["screens"]
    labels = [r["screen"] for r in rows]
    p50 = [r["p50_ms"] or 0 for r in rows]
    p95 = [r["p95_ms"] or 0 for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.5))
    positions = range(len(rows))
    ax.barh([y + 0.2 for y in positions], p50, height=0.4, label="p50")
    ax.barh([y - 0.2 for y in positions], p95, height=0.4, label="p95")
    ax.axvline(GOAL_MS, color="black", linestyle="--", linewidth=1, label="goal (p95)")
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds")
    chats = result.get("rows", {}).get("chats_chat", 0)
    ax.set_title(f"Screens at {chats:,} chats ({result['mode']} run)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    name = "screens.png"
    fig.savefig(out_dir / name, dpi=100)
    plt.close(fig)
    return [(name, f"p50 and p95 per screen at {chats:,} chats; the dashed line is the goal.")]
