"""Every page shows times in the viewer's zone: the lists, the chat panel (transcript,
comments, timeline), the bell, the simulator and the set-up pages; the top bar and the
set-up pages name the zone; each user chooses theirs on /account/time-zone/ (and an admin
or the API through the same service), an unknown zone refused with a sentence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client, override_settings

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import User
from chatdesk.chats.models import ChatEvent, Comment, Direction, Message, Notification
from chatdesk.chats.services.comments import add_comment
from chatdesk.core.errors import BadInput
from chatdesk.providers.models import Channel
from chatdesk.routing import services as routing_services
from chatdesk.web.simulator_views import SESSION_KEY
from tests.support.chats import ChatMaker, write_in

Clients = Callable[[User], Client]

# Monday 7 December 2026, noon UTC: 21:00 in Tokyo, the same day there.
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
# Monday 15 June 2026, 23:30 UTC: Tuesday 16 June, 08:30 in Tokyo.
THEN = datetime(2026, 6, 15, 23, 30, tzinfo=UTC)
IN_TOKYO = (
    'datetime="2026-06-16T08:30:00+09:00" '
    'title="Tuesday 16 June 2026, 08:30 JST (Asia/Tokyo)">Tue 16 Jun 08:30</time>'
)
IN_UTC = ">Mon 15 Jun 23:30</time>"
IN_LONDON = 'title="Tuesday 16 June 2026, 00:30 BST (Europe/London)">Tue 16 Jun 00:30</time>'


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def in_tokyo(user: User) -> User:
    return account_services.set_time_zone(user=user, time_zone="Asia/Tokyo")


def test_the_agents_list_shows_the_last_message_in_her_zone(
    alice: User, make_chat: ChatMaker, client_as: Clients
) -> None:
    chat = make_chat("+27820000101", name="Carol", agent=alice)
    type(chat).objects.filter(pk=chat.pk).update(last_message_at=THEN)
    assert IN_UTC in client_as(alice).get("/agent/lists/").text
    in_tokyo(alice)
    html = client_as(alice).get("/agent/lists/").text
    assert IN_TOKYO in html and IN_UTC not in html


def test_a_row_of_today_shows_the_clock_alone(
    alice: User, make_chat: ChatMaker, client_as: Clients
) -> None:
    make_chat("+27820000102", name="Carol", agent=alice)  # last message: now
    in_tokyo(alice)
    html = client_as(alice).get("/agent/lists/").text
    assert 'title="Monday 7 December 2026, 21:00 JST (Asia/Tokyo)">21:00</time>' in html


def test_the_supervisor_console_rows_follow_the_desks_zone(
    sam: User, alice: User, make_chat: ChatMaker, client_as: Clients
) -> None:
    chat = make_chat("+27820000103", name="Carol", agent=alice)
    type(chat).objects.filter(pk=chat.pk).update(last_message_at=THEN)
    routing_services.set_business_hours(
        department=None, timezone="Europe/London", weekly=[], exceptions=[], by=None
    )
    html = client_as(sam).get("/supervisor/lists/").text
    assert IN_LONDON in html
    assert 'href="/account/time-zone/' not in html  # a fragment: no top bar


def test_the_chat_panel_transcript_comments_and_timeline_are_local(
    alice: User, sam: User, make_chat: ChatMaker, client_as: Clients
) -> None:
    chat = make_chat("+27820000104", name="Carol", agent=alice)
    Message.objects.create(
        chat=chat, channel=chat.channel, direction=Direction.IN, text="Hi", created_at=THEN
    )
    add_comment(chat_id=chat.pk, body="Looking", by=sam)
    Comment.objects.filter(chat=chat).update(created_at=THEN)
    ChatEvent.objects.filter(chat=chat).update(created_at=THEN)
    assert ChatEvent.objects.filter(chat=chat).exists()
    in_tokyo(alice)
    html = client_as(alice).get(f"/chats/{chat.pk}/panel/").text
    transcript, _, rest = html.partition('id="cdp-' + str(chat.pk) + "-timeline")
    assert IN_TOKYO in transcript  # the message and the comment
    assert transcript.count(IN_TOKYO) >= 2
    assert IN_TOKYO in rest  # the timeline
    assert IN_UTC not in html


def test_the_bell_is_local(
    alice: User, sam: User, make_chat: ChatMaker, client_as: Clients
) -> None:
    chat = make_chat("+27820000105", name="Carol", agent=alice)
    add_comment(chat_id=chat.pk, body="@alice look", by=sam)
    Notification.objects.filter(recipient=alice).update(created_at=THEN)
    in_tokyo(alice)
    html = client_as(alice).get("/notifications/bell/", headers={"HX-Request": "true"}).text
    assert f'<time class="cdp-bell-time" {IN_TOKYO}' in html


def test_the_simulator_shows_the_desks_zone(sandbox: Channel) -> None:
    message = write_in(sandbox, "+27821234567", "Hello desk")
    Message.objects.filter(pk=message.pk).update(created_at=THEN)
    client = Client()
    session = client.session
    session[SESSION_KEY] = {"phone": "+27821234567", "name": "Carol"}
    session.save()
    with override_settings(CHATDESK_TIME_ZONE="Asia/Tokyo"):
        html = client.get(
            "/simulator/conversation/", {"channel": sandbox.pk}, headers={"HX-Request": "true"}
        ).text
    assert 'datetime="2026-06-16T08:30:00+09:00"' in html and ">08:30</time>" in html
    assert ">16 June 2026</time>" in html


def test_the_top_bar_names_the_zone_and_links_to_the_choice(
    alice: User, client_as: Clients
) -> None:
    html = client_as(alice).get("/agent/").text
    assert '<span class="who-zone-words">Times in </span>UTC</a>' in html
    in_tokyo(alice)
    html = client_as(alice).get("/agent/").text
    assert 'href="/account/time-zone/?next=/agent/"' in html
    assert '<span class="who-zone-words">Times in </span>Asia/Tokyo</a>' in html


def test_the_set_up_pages_name_the_zone_and_show_times_in_it(
    ada: User, alice: User, client_as: Clients
) -> None:
    User.objects.filter(pk=alice.pk).update(last_seen_at=THEN)
    in_tokyo(ada)
    client = client_as(ada)
    page = client.get(f"/setup/accounts/user/{alice.pk}/change/").text
    assert "Times in Asia/Tokyo" in page
    assert "June 16, 2026, 8:30 a.m." in page  # last seen, a read-only field
    # An admin sets another's zone here, through the same service and its check.
    form = client.get(f"/setup/accounts/user/{alice.pk}/change/")
    assert 'name="time_zone"' in form.text
    hours = routing_services.set_business_hours(
        department=None, timezone="Europe/London", weekly=[], exceptions=[], by=None
    )
    page = client.get(f"/setup/routing/businesshours/{hours.pk}/change/").text
    assert "<caption>Hours in Europe/London time</caption>" in page


# --- Choosing one's zone -----------------------------------------------------------------


def test_a_user_chooses_their_zone_and_goes_back(alice: User, client_as: Clients) -> None:
    client = client_as(alice)
    page = client.get("/account/time-zone/?next=/agent/").text
    assert "shown in <strong data-time-zone>UTC</strong>, the desk's time zone" in page
    assert '<option value="" selected>The desk\'s time zone (UTC)</option>' in page
    response = client.post("/account/time-zone/", {"time_zone": "Asia/Tokyo", "next": "/agent/"})
    assert response.status_code == 302 and response["Location"] == "/agent/"
    alice.refresh_from_db()
    assert alice.time_zone == "Asia/Tokyo"
    page = client.get("/account/time-zone/").text
    assert "shown in <strong data-time-zone>Asia/Tokyo</strong>." in page
    assert '<option value="Asia/Tokyo" selected>' in page
    assert "It is now <time" in page and ">21:00</time>" in page
    # Back to the desk's, and never to another site.
    response = client.post(
        "/account/time-zone/", {"time_zone": "", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/account/time-zone/"
    alice.refresh_from_db()
    assert alice.time_zone == ""


@pytest.mark.parametrize("bad", ["Mars/Olympus", "America", "../../etc/passwd", "x" * 300])
def test_an_unknown_zone_is_refused_with_a_sentence(
    alice: User, client_as: Clients, bad: str
) -> None:
    in_tokyo(alice)
    response = client_as(alice).post("/account/time-zone/", {"time_zone": bad})
    assert response.status_code == 400
    assert "is not a time zone this server knows" in response.text
    assert "Europe/London" in response.text
    alice.refresh_from_db()
    assert alice.time_zone == "Asia/Tokyo"


def test_the_service_checks_the_zone(alice: User) -> None:
    with pytest.raises(BadInput, match="not a time zone this server knows"):
        account_services.set_time_zone(user=alice, time_zone="Mars/Olympus")
    assert account_services.set_time_zone(user=alice, time_zone=" Europe/London ").time_zone == (
        "Europe/London"
    )
    alice.refresh_from_db()
    assert alice.time_zone == "Europe/London"
    User.objects.filter(pk=alice.pk).update(is_active=False)
    with pytest.raises(BadInput):
        account_services.set_time_zone(user=alice, time_zone="Asia/Tokyo")


def test_the_api_reads_and_changes_a_users_zone(ada: User, alice: User, api_as: Any) -> None:
    api = api_as(ada)
    response = api.patch(f"/users/{alice.pk}", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "is not a time zone this server knows" in response.json()["detail"]
    response = api.patch(f"/users/{alice.pk}", {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 200 and response.json()["time_zone"] == "Asia/Tokyo"
    alice.refresh_from_db()
    assert alice.time_zone == "Asia/Tokyo"
    created = api.post(
        "/users",
        {"username": "erin", "password": "a long enough pass 42", "time_zone": "Mars/Olympus"},
    )
    assert created.status_code == 400
    assert not User.objects.filter(username="erin").exists()


def test_an_admin_sets_a_users_zone_on_the_set_up_page_through_the_service(
    ada: User, alice: User, client_as: Clients
) -> None:
    form = {
        "username": alice.username,
        "role": alice.role,
        "display_name": alice.display_name,
        "departments": [d.pk for d in alice.departments.all()],
        "capacity": alice.capacity,
        "presence": alice.presence,
        "is_active": "on",
    }
    url = f"/setup/accounts/user/{alice.pk}/change/"
    refused = client_as(ada).post(url, {**form, "time_zone": "Mars/Olympus"})
    assert refused.status_code == 200
    assert "&#x27;Mars/Olympus&#x27; is not a time zone this server knows" in refused.text
    alice.refresh_from_db()
    assert alice.time_zone == ""
    saved = client_as(ada).post(url, {**form, "time_zone": "Asia/Tokyo"})
    assert saved.status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == "Asia/Tokyo"
