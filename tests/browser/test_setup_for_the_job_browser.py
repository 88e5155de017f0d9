"""The set-up pages made for the job, clicked through by an admin at desk and phone width:
a WhatsApp channel added by its named fields (a phone number typed as the phone number
ID is refused with a sentence, then corrected) and its connection tested against the fake
Meta; business hours in a time zone picked from a list; a user locked out of signing in,
unlocked from their page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import Server, log_in
from tests.support.fakes import FakeGraph
from tests.support.personas import PASSWORD

SIZES = [(1366, 768, ""), (390, 844, "-phone")]

# A page of erin's that is still open may register a live connection while she is being
# deleted (its foreign key then fails the commit): the pages close first (the fixture comes
# before new_page in each test), and the drop is tried again if one slipped in.
DROP = """
import time
from django.db import IntegrityError, transaction
from chatdesk.accounts.models import User
from chatdesk.providers.models import Channel
from chatdesk.routing.models import BusinessHours
from axes.models import AccessAttempt
for attempt in range(10):
    try:
        with transaction.atomic():
            Channel.objects.filter(name__startswith="WhatsApp Support").delete()
            BusinessHours.objects.filter(department=None).delete()
            AccessAttempt.objects.all().delete()
            User.objects.filter(username="erin").delete()
        break
    except IntegrityError:
        if attempt == 9:
            raise
        time.sleep(0.3)
"""

ADD_ERIN = """
from chatdesk.accounts import services
services.create_user(
    username="erin", password=%r, role="supervisor", display_name="Erin Lead"
)
"""


@pytest.fixture
def leaves_the_seed_desk(server: Server) -> Iterator[None]:
    """What these tests add goes again, so the other browser tests see the seed desk."""
    server.chatdesk("shell", "-c", DROP)
    try:
        yield
    finally:
        server.chatdesk("shell", "-c", DROP)


@pytest.mark.parametrize("width,height,suffix", SIZES)
def test_an_admin_adds_a_whatsapp_channel_by_its_fields_and_tests_the_connection(
    leaves_the_seed_desk: None,
    new_page: Callable[..., Page],
    fake_graph: FakeGraph,
    screenshot: Callable[[Page, str], None],
    width: int,
    height: int,
    suffix: str,
):
    page = new_page(width=width, height=height)
    log_in(page, "ada")
    page.goto("/setup/providers/channel/add/")
    page.get_by_label("Kind").select_option("whatsapp")
    # Only the chosen kind's settings are shown: no JSON box, no SMS fields.
    expect(page.get_by_label("Phone number ID")).to_be_visible()
    expect(page.get_by_label("From number")).to_be_hidden()
    expect(page.locator("textarea[name=config]")).to_have_count(0)
    page.locator("#id_name").fill("WhatsApp Support")
    page.get_by_label("Phone number ID").fill("+27 82 123 4567")
    page.get_by_label("Graph API URL").fill(fake_graph.graph_api_url)
    page.get_by_role("textbox", name="Access token").fill(fake_graph.access_token)
    page.get_by_role("textbox", name="App secret").fill("app-secret")
    page.get_by_role("textbox", name="Verify token").fill("verify-token")
    page.get_by_role("button", name="Save", exact=True).click()
    refusal = page.get_by_text("The phone number ID (config.phone_number_id) is Meta's id for it")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("it is not the phone number itself")
    screenshot(page, f"setup-channel-refused{suffix}")

    page.get_by_label("Phone number ID").fill(fake_graph.phone_number_id)
    # The secrets were not shown back: typed again.
    page.get_by_role("textbox", name="Access token").fill(fake_graph.access_token)
    page.get_by_role("textbox", name="App secret").fill("app-secret")
    page.get_by_role("textbox", name="Verify token").fill("verify-token")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was added successfully")).to_be_visible()
    expect(page.get_by_role("textbox", name="Access token")).to_have_value("")
    expect(page.get_by_text("Set. Leave blank to keep it").first).to_be_visible()

    page.get_by_role("button", name="Test connection").click()
    expect(
        page.get_by_text(
            "WhatsApp Support: connection works. WhatsApp knows this number: +1 555-010-0123"
        )
    ).to_be_visible()
    assert fake_graph.last.path == f"/v21.0/{fake_graph.phone_number_id}"
    assert fake_graph.last.bearer == fake_graph.access_token
    screenshot(page, f"setup-channel-connection{suffix}")


@pytest.mark.parametrize("width,height,suffix", SIZES)
def test_an_admin_picks_the_desks_time_zone_from_the_list(
    leaves_the_seed_desk: None,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], None],
    width: int,
    height: int,
    suffix: str,
):
    page = new_page(width=width, height=height)
    log_in(page, "ada")
    page.goto("/setup/routing/businesshours/add/")
    zone = page.get_by_label("Time zone")
    expect(
        zone.locator("optgroup[label=Africa] option[value='Africa/Johannesburg']")
    ).to_have_count(1)
    zone.select_option("Africa/Johannesburg")
    screenshot(page, f"setup-hours-time-zone{suffix}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was added successfully")).to_be_visible()
    expect(page.get_by_role("cell", name="Africa/Johannesburg", exact=True)).to_be_visible()


@pytest.mark.parametrize("width,height,suffix", SIZES)
def test_an_admin_unlocks_a_user_locked_out_of_signing_in(
    leaves_the_seed_desk: None,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], None],
    width: int,
    height: int,
    suffix: str,
    server: Server,
):
    # A supervisor of her own: signing in moves no chats of the seed desk.
    server.chatdesk("shell", "-c", ADD_ERIN % PASSWORD)
    erin = new_page(width=width, height=height)
    for _ in range(5):
        log_in(erin, "erin", "not-the-password")
    expect(erin.get_by_text("Too many failed sign-ins for this username")).to_be_visible()
    expect(
        erin.get_by_text("on the set-up pages, Users → your username → Unlock sign-in")
    ).to_be_visible()
    screenshot(erin, f"login-locked-out{suffix}")

    page = new_page(width=width, height=height)
    log_in(page, "ada")
    page.goto("/setup/accounts/user/?q=erin")
    page.get_by_role("link", name="erin", exact=True).click()
    locked = page.get_by_text("Locked out from 127.0.0.1 after 5 failed sign-ins")
    expect(locked).to_be_visible()
    locked.scroll_into_view_if_needed()
    screenshot(page, f"setup-user-locked-out{suffix}")
    page.get_by_role("button", name="Unlock sign-in").click()
    expect(page.get_by_text("Erin Lead (erin) can sign in again.")).to_be_visible()
    expect(page.get_by_text("Not locked out.")).to_be_visible()
    expect(page.get_by_role("button", name="Unlock sign-in")).to_have_count(0)

    log_in(erin, "erin")
    expect(erin).to_have_url(re.compile(r"/supervisor/"))
    expect(erin.get_by_text("Too many failed sign-ins")).to_have_count(0)
