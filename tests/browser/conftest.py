"""Browser tests: a real server (uvicorn, in a subprocess, on a scratch database) and a task
worker beside it (``chatdesk worker``, which delivers outbound messages), driven by headless
Debian Chromium through Playwright.

Missing Chromium or Playwright fails these tests with a message; it never skips them.
The fixtures are package-scoped so Playwright's event loop is gone before other test
packages use the ORM in this process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import PASSWORD
from tests.scratch import CHATDESK, scratch_database, subprocess_env

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

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
from chatdesk.accounts.models import Presence
from chatdesk.chats.models import Chat, Contact
from chatdesk.flows import presence
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


def _run(args: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(args[:3])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
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
def _process(
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


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Chat Desk server with the seed desk above, and a task worker beside it."""
    tmp = tmp_path_factory.mktemp("browser")
    with scratch_database(tmp) as database_url, ExitStack() as running:
        # The seed desk must not change under the tests: agents whose pages close are not
        # handed over to others during the run.
        env = subprocess_env(database_url, tmp / "var", CHATDESK_OFFLINE_GRACE="3600")
        _run([CHATDESK, "migrate", "--noinput"], env, tmp)
        _run([CHATDESK, "shell", "-c", SEED], env, tmp)
        port = _free_port()
        log_path = tmp / "server.log"
        process = running.enter_context(
            _process(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "chatdesk.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env,
                tmp,
                log_path,
            )
        )
        worker = running.enter_context(
            _process([CHATDESK, "worker", "--interval", "0.2"], env, tmp, tmp / "worker.log")
        )
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, process, log_path)
        if worker.poll() is not None:
            pytest.fail(f"the worker exited with {worker.returncode}:\n{_read(tmp / 'worker.log')}")
        yield Server(url=base, env=env, cwd=tmp)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture(scope="package")
def server_url(server: Server) -> str:
    """The base URL of a real Chat Desk server with the seed desk above."""
    return server.url


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Browser tests need Chromium at {CHROMIUM}, and it is missing: install Debian's "
            "'chromium' package (scripts/ensure-browser does it when run as root)."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Browser tests need Playwright for Python: .venv/bin/pip install playwright "
            "(never 'playwright install': the tests use Debian's Chromium)."
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Browser, server_url: str) -> Iterator[Callable[..., Page]]:
    """``new_page(width=390)``: a fresh browser context (no cookies) at that size."""
    contexts = []

    def make(width: int = DESKTOP["width"], height: int = DESKTOP["height"]) -> Page:
        context = browser.new_context(
            base_url=server_url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Save what the page shows to docs/screenshots/NAME.png (kept for the README)."""

    def take(page: Page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    return take


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
