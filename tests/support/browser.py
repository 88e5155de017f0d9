"""The browser tests' desk: a real server (uvicorn, in a subprocess, on a scratch
database) and a task worker beside it, seeded with the personas; signing in from a page.

Playwright is imported only for type checking here, so a missing Playwright fails the
browser fixtures with a message instead of breaking collection.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from chatdesk.providers.adapters import whatsapp
from tests.support.fakes import FakeGraph
from tests.support.personas import PASSWORD
from tests.support.scratch import CHATDESK

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = os.environ.get("CHATDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SERVER_START_DEADLINE = 60.0
DESKTOP = {"width": 1280, "height": 800}

# The desk the browser tests see: ada the admin, sam the supervisor, alice and bob agents,
# and a few chats in every tab so the console has something to count.
SEED = f"""
from datetime import timedelta
from chatdesk.accounts import services
from chatdesk.flows import presence
from chatdesk.accounts.models import Presence
from chatdesk.chats.models import Chat, Contact
from chatdesk.core import clock
from chatdesk.providers.models import Channel
from chatdesk.routing.models import Department

password = {PASSWORD!r}
sales = Department.objects.create(name="Sales")
support = Department.objects.create(name="Support")
services.create_user(username="ada", password=password, role="admin", display_name="Ada Admin")
services.create_user(
    username="sam", password=password, role="supervisor", display_name="Sam Supervisor"
)
alice = services.create_user(
    username="alice", password=password, role="agent", display_name="Alice Agent",
    department_ids=[sales.pk],
)
bob = services.create_user(
    username="bob", password=password, role="agent", display_name="Bob Agent",
    department_ids=[sales.pk, support.pk],
)
presence.set_presence(user=alice, status=Presence.AVAILABLE)
sandbox = Channel.objects.create(kind="sandbox", name="Sandbox", department=sales)
whatsapp = Channel.objects.create(
    kind="whatsapp", name="WhatsApp Sales", department=sales,
    config={{"phone_number_id": "1234567890"}},
    secrets={{"access_token": "a", "app_secret": "b", "verify_token": "c"}},
)
now = clock.now()
rows = [
    ("+27821234567", "Carol Customer", whatsapp, alice, {{}}),
    ("+27829876543", "Thabo Mokoena", sandbox, alice, {{}}),
    ("+4915112345678", "Jana Schmidt", whatsapp, bob, {{}}),
    ("+14155550123", "", sandbox, None, {{"queued_at": now}}),
    ("+27825550000", "Lindiwe Dube", whatsapp, alice,
     {{"status": "closed", "closed_at": now, "closed_by": "agent"}}),
    ("+447700900123", "Oliver Smith", sandbox, None,
     {{"kind": "ticket", "ticket_state": "unassigned"}}),
    ("+33612345678", "Camille Martin", whatsapp, bob,
     {{"kind": "ticket", "ticket_state": "assigned"}}),
]
for minutes, (phone, name, channel, agent, extra) in enumerate(rows):
    contact = Contact.objects.create(phone=phone, name=name)
    at = now - timedelta(minutes=7 * minutes + 3)
    Chat.objects.create(
        channel=channel, contact=contact, agent=agent, created_at=at, last_message_at=at,
        **extra,
    )
"""


def run(args: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(args[:3])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(
        f"the server did not answer /healthz in {SERVER_START_DEADLINE:.0f}s:\n" + log.read_text()
    )


@dataclass(frozen=True)
class Server:
    """The running desk: its base URL, and the environment and folder its processes share
    (for running ``chatdesk`` commands against the same database)."""

    url: str
    env: dict[str, str]
    cwd: Path

    def chatdesk(self, *args: str) -> str:
        """Run ``chatdesk ARGS`` against the server's database; its stdout."""
        result = subprocess.run(
            [CHATDESK, *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"chatdesk {args[0]} failed ({result.returncode}):\n{result.stderr}")
        return result.stdout


@contextmanager
def background(
    args: list[str], env: dict[str, str], cwd: Path, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A background process logging to ``log_path``, terminated (then killed) at the end."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


# A page is settled when it has loaded, htmx has no request in flight and every image has
# loaded or failed; checked again after a frame, since a swap may start another request.
_SETTLED = """() => document.readyState === "complete"
    && !document.querySelector(".htmx-request")
    && Array.from(document.images).every((image) => image.complete)"""
_NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)))"


def wait_until_settled(page: Page) -> None:
    """What the tests waited for with Playwright's "networkidle" (half a second with no
    request, every time), without the fixed wait: loading done, htmx idle, images done."""
    for _ in range(2):
        page.wait_for_function(_SETTLED)
        page.evaluate(_NEXT_FRAME)
    page.wait_for_function(_SETTLED)


# A WhatsApp channel of the browser desk that sends to a fake Graph API on loopback, and
# Meta's signed webhooks to it (``post_whatsapp_webhook``).
FAKE_GRAPH_APP_SECRET = "browser-fake-graph-app-secret"
FAKE_GRAPH_CHANNEL = """
from chatdesk.providers.models import Channel
from chatdesk.routing.models import Department
channel = Channel.objects.create(
    kind="whatsapp", name={name!r}, department=Department.objects.get(name="Sales"),
    config={{"phone_number_id": {phone_number_id!r}, "graph_api_url": {graph_api_url!r}}},
    secrets={{"access_token": {access_token!r}, "app_secret": {app_secret!r},
             "verify_token": "v"}},
)
print(channel.pk)
"""
FORGET_CHANNEL = """
from chatdesk.chats.models import Chat, Contact
from chatdesk.providers.models import Channel
contacts = list(Chat.objects.filter(channel_id={channel_id}).values_list("contact_id", flat=True))
Chat.objects.filter(channel_id={channel_id}).delete()
Contact.objects.filter(pk__in=contacts, chats__isnull=True).delete()
Channel.objects.filter(pk={channel_id}).delete()
"""


@contextmanager
def whatsapp_channel_to(server: Server, fake_graph: FakeGraph, name: str) -> Iterator[int]:
    """A WhatsApp channel (its id) for one test; its chats and their contacts go after."""
    script = FAKE_GRAPH_CHANNEL.format(
        name=name,
        phone_number_id=fake_graph.phone_number_id,
        graph_api_url=fake_graph.graph_api_url,
        access_token=fake_graph.access_token,
        app_secret=FAKE_GRAPH_APP_SECRET,
    )
    channel_id = int(server.chatdesk("shell", "-c", script).strip().splitlines()[-1])
    try:
        yield channel_id
    finally:
        server.chatdesk("shell", "-c", FORGET_CHANNEL.format(channel_id=channel_id))


def post_whatsapp_webhook(server: Server, channel_id: int, payload: Any) -> dict[str, Any]:
    """Post ``payload`` to the channel's webhook, signed as Meta signs; the desk's answer."""
    body = json.dumps(payload).encode()
    response = httpx.post(
        f"{server.url}/webhooks/whatsapp/{channel_id}",
        content=body,
        headers={
            "Content-Type": "application/json",
            whatsapp.SIGNATURE_HEADER: whatsapp.signature_for(body, FAKE_GRAPH_APP_SECRET),
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer
