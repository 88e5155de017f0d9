"""A desk set up for the live-event benchmarks: one WhatsApp channel whose webhooks the
benchmark signs, supervisors whose sockets see every chat's events, and idle agents, and
the way to post a customer's message to it."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.harness import Stack
from bench.meta_payloads import text_webhook
from chatdesk.providers.adapters import whatsapp

APP_SECRET = "bench-meta-app-secret"
PHONE_NUMBER_ID = "106540352242922"
# Nothing listens on the discard port: nothing is sent out (the channel has no automatic
# replies), and if something were, it would fail at once instead of reaching Meta.
GRAPH_API_URL = "http://127.0.0.1:9/v21.0"


@dataclass(frozen=True)
class LiveDesk:
    channel_id: int
    supervisor_tokens: list[str]
    idle_tokens: list[str]


def set_up(stack: Stack, *, supervisors: int, idle_users: int) -> LiveDesk:
    """The channel (in a department with nobody in it, so every new chat is an unassigned
    ticket and no agent's routing enters the measurement), ``supervisors`` supervisors and
    ``idle_users`` agents in no department: their sockets receive presence alone, so they
    are held open at the cost of every idle socket (heartbeats, the hub's visibility check
    of each event) without carrying the chats' traffic."""
    made = stack.query(
        f"""
        import json
        from chatdesk.accounts.models import Role
        from chatdesk.accounts.services import create_user, issue_api_token
        from chatdesk.providers.models import Channel, ChannelKind
        from chatdesk.routing.models import Department

        sales = Department.objects.create(name="Sales")
        channel = Channel.objects.create(
            kind=ChannelKind.WHATSAPP, name="WhatsApp", department=sales,
            out_of_hours_reply="", queue_reply="",
            config={{"phone_number_id": "{PHONE_NUMBER_ID}", "graph_api_url": "{GRAPH_API_URL}"}},
            secrets={{"access_token": "EAAG-bench", "app_secret": "{APP_SECRET}",
                      "verify_token": "bench"}},
        )
        def token(username, role):
            user = create_user(username=username, password=None, role=role)
            return issue_api_token(user=user, name="bench")
        print(json.dumps({{
            "channel_id": channel.pk,
            "supervisor_tokens": [
                token(f"supervisor-{{n}}", Role.SUPERVISOR) for n in range({supervisors})
            ],
            "idle_tokens": [token(f"idle-{{n}}", Role.AGENT) for n in range({idle_users})],
        }}))
        """
    )
    return LiveDesk(**made)


def webhook_body(message_id: str, sender: str, text: str) -> bytes:
    return text_webhook(message_id, sender, text, phone_number_id=PHONE_NUMBER_ID)


def webhook_request(channel_id: int, body: bytes) -> tuple[str, dict[str, str]]:
    """The path and headers of the signed POST carrying ``body``."""
    return f"/webhooks/whatsapp/{channel_id}", {
        "Content-Type": "application/json",
        whatsapp.SIGNATURE_HEADER: whatsapp.signature_for(body, APP_SECRET),
    }


async def post_message(
    client: httpx.AsyncClient, channel_id: int, message_id: str, sender: str
) -> tuple[str, float]:
    """Post one signed message: ``"stored"`` when the desk answered 200 with ``stored`` 1,
    else what happened instead (the status, or the transport error's name); and when the
    answer came (``time.monotonic()``)."""
    body = webhook_body(message_id, sender, f"Hello ({message_id})")
    path, headers = webhook_request(channel_id, body)
    try:
        response = await client.post(path, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return type(exc).__name__, time.monotonic()
    answered = time.monotonic()
    if response.status_code != 200:
        return f"HTTP {response.status_code}", answered
    if response.json().get("stored") != 1:
        return "not stored", answered
    return "stored", answered


ERROR_LINE = re.compile(r"^([\w.]+(?:Error|Exception|Closed)): (.{0,90})")


def server_errors(log: str) -> dict[str, int]:
    """The exceptions a server logged (type and the start of the message), counted."""
    found: Counter[str] = Counter()
    for line in log.splitlines():
        match = ERROR_LINE.match(line)
        if match:
            found[f"{match[1]}: {match[2]}"] += 1
    return dict(found.most_common(8))


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def open_sockets(pid: int) -> int:
    try:
        return sum(
            1 for fd in os.scandir(f"/proc/{pid}/fd") if os.readlink(fd.path).startswith("socket:")
        )
    except OSError:
        return 0


def socket_holder(pid: int) -> int:
    """Of ``pid`` and its descendants, the process holding the most sockets: the one that
    serves the WebSockets, whether ``chatdesk serve`` runs uvicorn itself or in a child."""
    return max(descendants(pid), key=open_sockets)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time used so far by ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
