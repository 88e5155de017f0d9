"""Bad settings on the set-up pages: refused with the API's sentence and nothing saved;
and what is stored already but cannot be used (written before names were checked, or
straight into the database) shown on every set-up page, linked to its object, until it
is corrected."""

from __future__ import annotations

import html
from datetime import time
from typing import Any

import pytest

from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.routing.models import BusinessHours, WeeklyInterval
from chatdesk.routing.services import Interval, set_business_hours

pytestmark = pytest.mark.django_db

HOURS = "/setup/routing/businesshours/"


def hours_form(timezone: str) -> dict[str, Any]:
    return {
        "department": "",
        "timezone": timezone,
        "weekly-TOTAL_FORMS": "1",
        "weekly-INITIAL_FORMS": "0",
        "weekly-0-day": "2",
        "weekly-0-start": "07:00",
        "weekly-0-end": "19:00",
        "exceptions-TOTAL_FORMS": "0",
        "exceptions-INITIAL_FORMS": "0",
    }


def page_text(response: Any) -> str:
    return html.unescape(response.content.decode())


# "America" is a folder of the zone database and "zone.tab" a file in it that is no zone:
# both once escaped the check as a server error.
@pytest.mark.parametrize("zone", ["Mars/Olympus", "America", "zone.tab"])
def test_an_unknown_time_zone_is_refused_on_a_stored_schedule_with_a_sentence(
    client_as, api_as, ada, zone
):
    hours = set_business_hours(
        department=None,
        timezone="Africa/Johannesburg",
        weekly=[Interval(day=0, start=time(8), end=time(17))],
        exceptions=[],
        by=None,
    )
    api = api_as(ada).put("/business-hours", {"timezone": zone, "weekly": []})
    assert api.status_code == 400, api.content
    sentence = api.json()["detail"]
    assert sentence.startswith(f"{zone!r} is not a time zone")
    response = client_as(ada).post(f"{HOURS}{hours.pk}/change/", hours_form(zone))
    assert response.status_code == 200
    assert sentence in page_text(response)
    hours.refresh_from_db()
    assert hours.timezone == "Africa/Johannesburg"  # nothing saved
    assert list(hours.weekly.values_list("day", "start", "end")) == [(0, time(8), time(17))]


def test_a_stored_unknown_time_zone_is_shown_on_the_set_up_pages_until_corrected(
    client_as, ada, sales
):
    broken = BusinessHours.objects.create(department=sales, timezone="Mars/Olympus")
    WeeklyInterval.objects.create(business_hours=broken, day=0, start=time(9), end=time(17))
    admin = client_as(ada)
    warning = "Business hours of Sales: the time zone 'Mars/Olympus' is not one this server knows"
    link = f'href="{HOURS}{broken.pk}/change/">Correct it'
    for page in ("/setup/", HOURS, f"{HOURS}{broken.pk}/change/", "/setup/providers/channel/"):
        text = page_text(admin.get(page))
        assert warning in text, page
        assert "routed as if always open" in text, page
        # Linked to the schedule's page, except on that page itself.
        assert (link in text) == (page != f"{HOURS}{broken.pk}/change/"), page

    saved = admin.post(
        f"{HOURS}{broken.pk}/change/", {**hours_form("Europe/London"), "department": sales.pk}
    )
    assert saved.status_code == 302, saved.content
    broken.refresh_from_db()
    assert broken.timezone == "Europe/London"
    assert "Configuration problem" not in page_text(admin.get("/setup/"))


def test_an_active_channel_whose_webhook_cannot_check_signatures_is_shown(client_as, ada):
    channel = Channel.objects.create(
        kind=ChannelKind.SMS, name="Support SMS", config={"from_number": "+14155550100"}
    )
    text = page_text(client_as(ada).get("/setup/"))
    assert "Channel Support SMS: it has no auth token" in text
    assert f'href="/setup/providers/channel/{channel.pk}/change/"' in text
    Channel.objects.filter(pk=channel.pk).update(is_active=False)  # its webhook is off: 404
    assert "Configuration problem" not in page_text(client_as(ada).get("/setup/"))
