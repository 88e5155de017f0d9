"""Browser tests: a real server (uvicorn, in a subprocess, on a scratch database) and a task
worker beside it (``chatdesk worker``, which delivers outbound messages), driven by headless
Debian Chromium through Playwright.

Missing Chromium or Playwright fails these tests with a message; it never skips them.
The fixtures are package-scoped so Playwright's event loop is gone before other test
packages use the ORM in this process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    SCREENSHOTS,
    SEED,
    Server,
    background,
    free_port,
    read,
    run,
    wait_until_up,
    whatsapp_channel_to,
)
from tests.support.scratch import (
    CHATDESK,
    FAST_HASHER,
    Template,
    scratch_database,
    subprocess_env,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory, desk_template: Template) -> Iterator[Server]:
    """A real Chat Desk server with the seed desk above (on a copy of the session's migrated
    template), and a task worker beside it."""
    tmp = tmp_path_factory.mktemp("browser")
    with scratch_database(tmp, desk_template) as database_url, ExitStack() as running:
        # The seed desk must not change under the tests: agents whose pages close are not
        # handed over to others during the run. Every sign-in hashes a password: the fast
        # hasher of the suite's settings.
        env = subprocess_env(
            database_url, tmp / "var", CHATDESK_OFFLINE_GRACE="3600", **FAST_HASHER
        )
        run([CHATDESK, "shell", "-c", SEED], env, tmp)
        port = free_port()
        log_path = tmp / "server.log"
        process = running.enter_context(
            background(
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
            background([CHATDESK, "worker", "--interval", "0.2"], env, tmp, tmp / "worker.log")
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process, log_path)
        if worker.poll() is not None:
            pytest.fail(f"the worker exited with {worker.returncode}:\n{read(tmp / 'worker.log')}")
        yield Server(url=base, env=env, cwd=tmp)


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


@pytest.fixture
def whatsapp_to_fake_graph(server: Server, fake_graph: Any) -> Iterator[int]:
    """A WhatsApp channel of the browser desk (its id) that sends to ``fake_graph``, for
    one test; post to it with ``tests.support.browser.post_whatsapp_webhook``."""
    with whatsapp_channel_to(server, fake_graph, "WhatsApp Fake Graph") as channel_id:
        yield channel_id
