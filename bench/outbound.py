"""Outbound pacing: a backlog of sends drained by two ``chatdesk worker`` processes into a
fake Graph API in this process: first one WhatsApp number alone at the default rate, then
two numbers at once with their own rates. The achieved rate of each number (first to last
arrival at the provider) against its setting, and every message counted: none twice, none
missing."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import harness
from bench.fake_graph import FakeGraph

NAME = "outbound"
TITLE = "Outbound sends paced per channel"

SEED = """
import json
from chatdesk.accounts.services import create_user
from chatdesk.chats.models import Chat, Contact, Message
from chatdesk.core import clock
from chatdesk.providers.models import Channel
from chatdesk.providers.tasks import deliver_message

agent = create_user(username="agent", password="bench-password-not-used")
plan = json.loads('{plan}')
now = clock.now()
queued = {{}}
for index, (phone_id, rate, count) in enumerate(plan):
    channel = Channel.objects.create(
        kind="whatsapp", name=f"Number {{phone_id}}", send_rate=rate,
        config={{"phone_number_id": phone_id, "graph_api_url": "{graph}"}},
        secrets={{"access_token": "{token}"}},
    )
    contacts = Contact.objects.bulk_create(
        Contact(phone=f"+27{{index + 1}}{{n:08d}}", name=f"Customer {{n}}") for n in range(count)
    )
    chats = Chat.objects.bulk_create(
        Chat(channel=channel, contact=c, agent=agent, created_at=now, last_inbound_at=now)
        for c in contacts
    )
    messages = Message.objects.bulk_create(
        Message(chat=chat, channel=channel, direction="out", status="queued", author=agent,
                text=f"Reply {{n}}", created_at=now)
        for n, chat in enumerate(chats)
    )
    queued[phone_id] = [m.pk for m in messages]
# One task per message, the channels interleaved as agents' replies would be.
longest = max(len(ids) for ids in queued.values())
for n in range(longest):
    for ids in queued.values():
        if n < len(ids):
            deliver_message.enqueue(ids[n])
print(json.dumps(queued))
"""

WORKERS = 2

SENT = """
import json
from django.db.models import Count
from chatdesk.chats.models import Message
print(json.dumps(dict(Message.objects.values_list("status").annotate(n=Count("id")))))
"""


def achieved(arrivals: list[tuple[float, str]]) -> float | None:
    """Messages a second from the first arrival to the last."""
    if len(arrivals) < 2:
        return None
    times = sorted(at for at, _ in arrivals)
    span = times[-1] - times[0]
    return (len(times) - 1) / span if span > 0 else None


def drain(ctx: harness.Context, plan: list[tuple[str, int, int]]) -> dict[str, Any]:
    """Queue ``plan``'s sends (phone number id, rate, count) on a fresh desk, start it, and
    count what reaches the fake provider: each channel's achieved rate, duplicates, losses."""
    channels: list[dict[str, Any]] = []
    with FakeGraph() as graph, ctx.desk(NAME, start=False) as stack:
        ids = stack.query(
            SEED.format(plan=json.dumps(plan), graph=graph.url, token=graph.access_token)
        )
        ctx.log(f"   {sum(len(v) for v in ids.values())} sends queued; starting the desk")
        started = time.monotonic()
        stack.start(workers=WORKERS)
        total = sum(len(v) for v in ids.values())
        expected_time = max(n / rate for _, rate, n in plan)

        def all_arrived() -> bool:
            return sum(len(graph.arrivals(phone)) for phone, _, _ in plan) >= total

        try:
            harness.wait_for(all_arrived, timeout=expected_time * 3 + 60, what="every send")
        except RuntimeError as exc:
            ctx.log(f"   {exc}")
        time.sleep(2)  # anything sent twice would arrive now
        statuses = stack.query(SENT)
        elapsed = time.monotonic() - started
        for phone, rate, n in plan:
            arrivals = graph.arrivals(phone)
            references = Counter(ref for _, ref in arrivals)
            wanted = {f"chatdesk-{pk}" for pk in ids[phone]}
            first = min((at for at, _ in arrivals), default=started)
            channels.append(
                {
                    "phone_number_id": phone,
                    "setting": rate,
                    "messages": n,
                    "received": len(arrivals),
                    "achieved": achieved(arrivals),
                    "duplicates": sum(c - 1 for c in references.values() if c > 1),
                    "lost": len(wanted - set(references)),
                    "unknown": len(set(references) - wanted),
                    "arrivals": [round(at - first, 4) for at, _ in sorted(arrivals)],
                }
            )
    for channel in channels:
        ctx.log(
            f"   {channel['phone_number_id']}: {channel['achieved'] or 0:.1f}/s of "
            f"{channel['setting']}/s, {channel['received']}/{channel['messages']} received, "
            f"{channel['duplicates']} duplicates, {channel['lost']} lost"
        )
    return {"channels": channels, "statuses": statuses, "elapsed_s": round(elapsed, 1)}


def figure_for(channel: dict[str, Any], label: str) -> dict[str, Any]:
    rate = channel["achieved"]
    clean = channel["duplicates"] == 0 and channel["lost"] == 0
    return harness.figure(
        f"Outbound rate at {channel['setting']}/s setting ({label}, "
        f"{channel['messages']} sends, {channel['duplicates']} duplicate, "
        f"{channel['lost']} lost)",
        unit="msg/s",
        ours=round(rate, 1) if rate is not None else None,
        limit=float(channel["setting"]),
        limit_label="the channel's setting",
        goal="within 5 % of the setting, no duplicate, no loss",
        met=_within(channel) and clean,
    )


def run(ctx: harness.Context) -> dict[str, Any]:
    count = ctx.scale(smoke=20, quick=800, full=4000)
    ctx.log("   one number alone, at the default 80/s:")
    alone = drain(ctx, [("100000000000001", 80, count)])
    # Then two numbers at once, their sends interleaved as agents' replies would be; the
    # second is slower and gets a quarter of the messages, so both drain together.
    ctx.log("   two numbers at once, 80/s and 20/s:")
    both = drain(ctx, [("100000000000002", 80, count), ("100000000000003", 20, max(2, count // 4))])
    alone["channels"][0]["label"] = "one number"
    for channel, label in zip(both["channels"], ("first", "second"), strict=True):
        channel["label"] = f"{label} of two numbers at once"
    figures = [
        figure_for(channel, channel["label"]) for channel in [*alone["channels"], *both["channels"]]
    ]
    notes = [
        f"{WORKERS} `chatdesk worker` processes drain the backlog; each send takes its "
        "channel's next slot, shared by every worker through the database, and the worker "
        "waits for that slot before calling the provider.",
    ]
    fast, slow = both["channels"]
    if not _within(fast):
        notes.append(
            "With two numbers at once, a worker that takes the slower number's send waits "
            f"for that number's next slot (1/{slow['setting']} s apart) before it can take "
            "another task, so while both have a backlog the faster number gets fewer "
            "workers than it could use and falls below its rate; alone it keeps it. "
            "Sending never exceeds a number's rate. Remedy: more workers than numbers "
            "busy at once, or a worker that sends for several numbers concurrently."
        )
    return harness.result(
        NAME,
        TITLE,
        ctx,
        figures,
        notes=notes,
        channels=[*alone["channels"], *both["channels"]],
        runs={"alone": alone, "both": both},
        workers=WORKERS,
    )


def _within(channel: dict[str, Any]) -> bool:
    rate = channel["achieved"]
    return rate is not None and abs(rate - channel["setting"]) <= 0.05 * channel["setting"]


def plot(result: dict[str, Any], out_dir: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for channel in result.get("channels", []):
        times = channel["arrivals"]
        if not times:
            continue
        ax.plot(
            times,
            range(1, len(times) + 1),
            label=(
                f"{channel.get('label', 'a number')}, setting {channel['setting']}/s: "
                f"achieved {channel['achieved'] or 0:.1f}/s"
            ),
        )
        ax.plot(
            [0, (len(times) - 1) / channel["setting"]],
            [1, len(times)],
            linestyle="--",
            color="grey",
            linewidth=0.8,
        )
    ax.set_xlabel("seconds since the channel's first send")
    ax.set_ylabel("messages received by the provider")
    ax.set_title("Sends arriving at the provider (dashed: exactly the setting)")
    ax.legend()
    fig.tight_layout()
    name = "outbound_rate.png"
    fig.savefig(out_dir / name, dpi=110)
    plt.close(fig)
    return [(name, "Outbound sends arriving at the fake provider against each channel's rate.")]
