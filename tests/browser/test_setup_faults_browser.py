"""A setting stored where the set-up pages never checked it (Support's business hours in
"Mars/Olympus") is a warning an admin sees on the set-up home and on the schedule's own
page, at desk and phone width; saving it unchanged is refused with a sentence, and a
real time zone clears the warning."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import Server, log_in

WARNING = "Business hours of Support: the time zone 'Mars/Olympus' is not one this server knows"

STORE_BROKEN_HOURS = """
from datetime import time
from chatdesk.routing.models import BusinessHours, Department, WeeklyInterval
hours = BusinessHours.objects.create(
    department=Department.objects.get(name="Support"), timezone="Mars/Olympus"
)
WeeklyInterval.objects.create(business_hours=hours, day=0, start=time(8), end=time(17))
print(hours.pk)
"""

DROP_SUPPORT_HOURS = """
from chatdesk.routing.models import BusinessHours
BusinessHours.objects.filter(department__name="Support").delete()
"""


@pytest.fixture
def broken_hours(server: Server) -> Iterator[int]:
    """Support's schedule, written straight to the database; gone again afterwards, so the
    other browser tests see the seed desk."""
    pk = int(server.chatdesk("shell", "-c", STORE_BROKEN_HOURS).split()[-1])
    try:
        yield pk
    finally:
        server.chatdesk("shell", "-c", DROP_SUPPORT_HOURS)


@pytest.mark.parametrize("width,height,suffix", [(1366, 768, ""), (390, 844, "-phone")])
def test_the_set_up_pages_warn_of_a_stored_unknown_time_zone(
    new_page: Callable[..., Page],
    broken_hours: int,
    screenshot: Callable[[Page, str], None],
    width: int,
    height: int,
    suffix: str,
):
    page = new_page(width=width, height=height)
    log_in(page, "ada")
    warnings = page.get_by_role("alert", name="Configuration problems")
    expect(warnings).to_contain_text(WARNING)
    expect(warnings).to_contain_text("routed as if always open")
    expect(warnings).to_be_in_viewport()
    screenshot(page, f"setup-configuration-problem{suffix}")

    warnings.get_by_role("link", name="Correct it").click()
    expect(page).to_have_url(
        f"{page.url.split('/setup/')[0]}/setup/routing/businesshours/{broken_hours}/change/"
    )
    here = page.get_by_role("alert", name="Configuration problems")
    expect(here).to_contain_text(WARNING)
    expect(here.get_by_role("link", name="Correct it")).to_have_count(0)  # the form is here
    expect(page.get_by_label("Time zone")).to_have_value("Mars/Olympus")
    screenshot(page, f"setup-configuration-problem-hours{suffix}")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("'Mars/Olympus' is not a time zone; use an IANA name")).to_be_visible()

    page.get_by_label("Time zone").select_option("Africa/Johannesburg")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    expect(page.get_by_role("alert", name="Configuration problems")).to_have_count(0)
