"""Set-up page helpers: the webhook URL to paste into Meta or Twilio, and the week of
business hours at a glance."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.routing.models import BusinessHours, Department, WeeklyInterval
from chatdesk.web.admin_hours import week_grid


def open_cells(html: str) -> list[tuple[str, str]]:
    return re.findall(r"<td class='open' title='(\w+) (\d\d):00'>", html)


def test_the_week_grid_shades_open_hours_including_past_midnight(db: Any) -> None:
    sales = Department.objects.create(name="Grid Sales")
    hours = BusinessHours.objects.create(department=sales, timezone="Africa/Johannesburg")
    nine_to_eleven = WeeklyInterval(
        business_hours=hours, day=0, start=dt.time(9, 0), end=dt.time(10, 30)
    )
    overnight = WeeklyInterval(business_hours=hours, day=6, start=dt.time(23, 0), end=dt.time(1, 0))
    html = week_grid([nine_to_eleven, overnight])
    assert open_cells(html) == [
        ("Monday", "00"),
        ("Monday", "09"),
        ("Monday", "10"),
        ("Sunday", "23"),
    ]
    assert html.count("<td class='closed'") == 7 * 24 - 4


def test_the_channel_page_shows_the_webhook_url_to_paste(client_as: Any, ada: Any) -> None:
    whatsapp = Channel.objects.create(kind=ChannelKind.WHATSAPP, name="WA line", config={})
    page = client_as(ada).get(f"/setup/providers/channel/{whatsapp.pk}/change/")
    assert page.status_code == 200
    assert f"http://testserver/webhooks/whatsapp/{whatsapp.pk}" in page.content.decode()


def test_the_channel_page_uses_the_public_url_when_set(
    client_as: Any, ada: Any, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://desk.example.com"
    sms = Channel.objects.create(kind=ChannelKind.SMS, name="SMS line", config={})
    page = client_as(ada).get(f"/setup/providers/channel/{sms.pk}/change/")
    assert f"https://desk.example.com/webhooks/sms/{sms.pk}" in page.content.decode()


def test_the_business_hours_page_shows_the_week(client_as: Any, ada: Any) -> None:
    hours = BusinessHours.objects.create(timezone="Europe/London")
    WeeklyInterval.objects.create(
        business_hours=hours, day=2, start=dt.time(8, 0), end=dt.time(9, 0)
    )
    page = client_as(ada).get(f"/setup/routing/businesshours/{hours.pk}/change/")
    assert page.status_code == 200
    assert open_cells(page.content.decode()) == [("Wednesday", "08")]
