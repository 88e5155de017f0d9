"""The set-up pages write through the same services as the API: a service's refusal is a
form error with the API's sentence and nothing written, and what a service does after a
change (the queue handed to an agent with more room) happens here too."""

from __future__ import annotations

import html
from typing import Any

import pytest

from chatdesk.accounts.models import Presence, Role, User
from chatdesk.chats.models import Chat
from chatdesk.core import clock
from chatdesk.flows import people
from chatdesk.flows.inbound import receive_message
from chatdesk.providers.base import InboundMessage
from chatdesk.providers.models import Channel, ChannelKind, Template
from chatdesk.routing.models import BusinessHours, Department, WeeklyInterval

pytestmark = pytest.mark.django_db

_ids = iter(range(1, 1_000_000))


def customer_writes(channel: Channel, phone: str) -> Chat:
    message = receive_message(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"setup-in-{next(_ids)}",
            from_phone=phone,
            timestamp=clock.now(),
            content_type="text",
            text="Hello",
        ),
    )
    assert message is not None
    return Chat.objects.get(pk=message.chat_id)


def user_form(user: User, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": user.username,
        "role": user.role,
        "display_name": user.display_name,
        "departments": [d.pk for d in user.departments.all()],
        "capacity": user.capacity,
        "presence": user.presence,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
    }
    data.update(overrides)
    return data


def refused_with(response: Any, sentence: str) -> None:
    assert response.status_code == 200, response.status_code
    assert html.escape(sentence) in response.content.decode()


# Users


def test_demoting_the_last_admin_here_is_refused_with_a_sentence(client_as, ada):
    response = client_as(ada).post(
        f"/setup/accounts/user/{ada.pk}/change/", user_form(ada, role=Role.AGENT)
    )
    refused_with(response, "ada is the desk's last active admin; make another user an admin first.")
    ada.refresh_from_db()
    assert (ada.role, ada.is_superuser, ada.is_staff) == (Role.ADMIN, True, True)


def test_deactivating_the_last_admin_here_is_refused_too(client_as, ada):
    response = client_as(ada).post(
        f"/setup/accounts/user/{ada.pk}/change/", user_form(ada, is_active="")
    )
    refused_with(response, "ada is the desk's last active admin; make another user an admin first.")
    ada.refresh_from_db()
    assert ada.is_active


def test_raising_an_agents_capacity_here_hands_them_a_waiting_chat(
    client_as, ada, alice, online, sandbox, django_capture_on_commit_callbacks
):
    online(alice, capacity=1)
    assert customer_writes(sandbox, "+27820000001").agent == alice
    waiting = customer_writes(sandbox, "+27820000002")
    assert waiting.agent is None
    alice.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(ada).post(
            f"/setup/accounts/user/{alice.pk}/change/", user_form(alice, capacity=2)
        )
    assert response.status_code == 302, response.content
    waiting.refresh_from_db()
    assert waiting.agent == alice
    alice.refresh_from_db()
    assert alice.capacity == 2


def test_a_presence_chosen_here_goes_through_the_presence_service(
    client_as, ada, alice, bob, online, sandbox, django_capture_on_commit_callbacks
):
    online(alice, capacity=1)
    online(bob, capacity=1)
    User.objects.filter(pk=bob.pk).update(presence=Presence.AWAY)
    assert customer_writes(sandbox, "+27820000003").agent == alice
    waiting = customer_writes(sandbox, "+27820000004")
    assert waiting.agent is None
    bob.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(ada).post(
            f"/setup/accounts/user/{bob.pk}/change/",
            user_form(bob, presence=Presence.AVAILABLE),
        )
    assert response.status_code == 302, response.content
    waiting.refresh_from_db()
    assert waiting.agent == bob
    bob.refresh_from_db()
    assert bob.presence == Presence.AVAILABLE and bob.presence_changed_at is not None


def test_a_username_taken_in_another_case_is_refused_as_the_api_refuses_it(
    client_as, api_as, ada, alice, bob
):
    api = api_as(ada).patch(f"/users/{bob.pk}", {"username": "ALICE"})
    assert api.status_code == 409
    response = client_as(ada).post(
        f"/setup/accounts/user/{bob.pk}/change/", user_form(bob, username="ALICE")
    )
    refused_with(response, api.json()["detail"])
    bob.refresh_from_db()
    assert bob.username == "bob"


def test_a_user_added_here_is_made_by_the_service(client_as, ada, sales):
    response = client_as(ada).post(
        "/setup/accounts/user/add/",
        {
            "username": "  yara  ",
            "usable_password": "false",
            "password1": "",
            "password2": "",
            "role": Role.AGENT,
            "display_name": "Yara",
            "departments": [sales.pk],
            "capacity": 4,
        },
    )
    assert response.status_code == 302, response.content
    yara = User.objects.get(username="yara")
    assert not yara.has_usable_password()
    assert (yara.capacity, list(yara.departments.all())) == (4, [sales])


# Channels


WHATSAPP_CONFIG = {"phone_number_id": "106540352242922"}
WHATSAPP_SECRETS = {"access_token": "EAAG-x", "app_secret": "app-s", "verify_token": "verify-s"}


def channel_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": ChannelKind.WHATSAPP,
        "name": "WhatsApp Sales",
        "department": "",
        "is_active": "on",
        "out_of_hours_reply": "Closed",
        "queue_reply": "Busy",
        "end_keyword": "//end",
        **WHATSAPP_CONFIG,
        **WHATSAPP_SECRETS,
        "auth_token": "",
    }
    data.update(overrides)
    return data


def test_an_invalid_channel_url_is_refused_here_as_the_api_refuses_it(client_as, api_as, ada):
    bad = {**WHATSAPP_CONFIG, "graph_api_url": "ftp://x"}
    api = api_as(ada).post(
        "/channels",
        {"kind": "whatsapp", "name": "WA", "config": {**bad, **WHATSAPP_SECRETS}},
    )
    assert api.status_code == 400
    sentence = api.json()["detail"]
    response = client_as(ada).post("/setup/providers/channel/add/", channel_form(**bad))
    refused_with(response, sentence)
    assert not Channel.objects.exists()


def test_an_invalid_channel_url_on_a_change_is_refused_and_nothing_changes(client_as, api_as, ada):
    channel = api_as(ada).post(
        "/channels",
        {"kind": "whatsapp", "name": "WA", "config": {**WHATSAPP_CONFIG, **WHATSAPP_SECRETS}},
    )
    assert channel.status_code == 201
    channel_id = channel.json()["id"]
    bad = {**WHATSAPP_CONFIG, "graph_api_url": "https://graph.example.com/?x=1"}
    api = api_as(ada).patch(f"/channels/{channel_id}", {"config": bad})
    assert api.status_code == 400
    response = client_as(ada).post(
        f"/setup/providers/channel/{channel_id}/change/",
        channel_form(name="Renamed", **bad, access_token="new-token"),
    )
    refused_with(response, api.json()["detail"])
    stored = Channel.objects.get(pk=channel_id)
    assert (stored.name, stored.secrets["access_token"]) == ("WA", "EAAG-x")


def test_a_channel_missing_a_secret_is_refused_here_as_the_api_refuses_it(client_as, api_as, ada):
    api = api_as(ada).post(
        "/channels", {"kind": "whatsapp", "name": "WA", "config": {**WHATSAPP_CONFIG}}
    )
    assert api.status_code == 400
    response = client_as(ada).post(
        "/setup/providers/channel/add/",
        channel_form(access_token="", app_secret="", verify_token=""),
    )
    refused_with(response, api.json()["detail"])
    assert not Channel.objects.exists()


def test_a_key_dropped_from_the_config_here_is_dropped(client_as, ada):
    channel = Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WA",
        config={**WHATSAPP_CONFIG, "waba_id": "123"},
        secrets=dict(WHATSAPP_SECRETS),
    )
    response = client_as(ada).post(
        f"/setup/providers/channel/{channel.pk}/change/",
        channel_form(name="WA", waba_id="", access_token=""),
    )
    assert response.status_code == 302, response.content
    channel.refresh_from_db()
    assert "waba_id" not in channel.config
    assert channel.secrets == WHATSAPP_SECRETS


# Templates


def test_a_template_with_skipped_placeholders_is_refused_as_the_api_refuses_it(
    client_as, api_as, ada, sandbox
):
    body = "Hi {{1}}, your order {{3}} shipped."
    api = api_as(ada).post(
        "/templates", {"channel_id": sandbox.pk, "name": "order_update", "body": body}
    )
    assert api.status_code == 400
    response = client_as(ada).post(
        "/setup/providers/template/add/",
        {
            "channel": sandbox.pk,
            "name": "order_update",
            "language": "en_US",
            "category": "utility",
            "body": body,
            "status": "approved",
        },
    )
    refused_with(response, api.json()["detail"])
    assert not Template.objects.exists()


# Departments and business hours


def test_a_department_named_twice_is_refused_as_the_api_refuses_it(client_as, api_as, ada, sales):
    api = api_as(ada).post("/departments", {"name": "SALES"})
    assert api.status_code == 409
    response = client_as(ada).post(
        "/setup/routing/department/add/", {"name": "SALES", "description": ""}
    )
    refused_with(response, api.json()["detail"])
    assert Department.objects.count() == 1


def hours_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "department": "",
        "timezone": "Africa/Johannesburg",
        "weekly-TOTAL_FORMS": "1",
        "weekly-INITIAL_FORMS": "0",
        "weekly-0-day": "0",
        "weekly-0-start": "08:00",
        "weekly-0-end": "17:00",
        "exceptions-TOTAL_FORMS": "0",
        "exceptions-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_an_invalid_time_zone_is_refused_here_as_the_api_refuses_it(client_as, api_as, ada):
    api = api_as(ada).put("/business-hours", {"timezone": "Mars/Olympus", "weekly": []})
    assert api.status_code == 400
    response = client_as(ada).post(
        "/setup/routing/businesshours/add/", hours_form(timezone="Mars/Olympus")
    )
    refused_with(response, api.json()["detail"])
    assert not BusinessHours.objects.exists()
    assert not WeeklyInterval.objects.exists()


def test_an_interval_with_no_length_is_refused_as_the_api_refuses_it(client_as, api_as, ada):
    api = api_as(ada).put(
        "/business-hours",
        {"timezone": "UTC", "weekly": [{"day": 0, "start": "08:00", "end": "08:00"}]},
    )
    assert api.status_code == 400
    response = client_as(ada).post(
        "/setup/routing/businesshours/add/",
        hours_form(timezone="UTC", **{"weekly-0-end": "08:00"}),
    )
    refused_with(response, api.json()["detail"])
    assert not BusinessHours.objects.exists()


def test_hours_saved_here_are_the_ones_the_api_reads(client_as, api_as, ada):
    response = client_as(ada).post("/setup/routing/businesshours/add/", hours_form())
    assert response.status_code == 302, response.content
    assert api_as(ada).get("/business-hours").json() == {
        "timezone": "Africa/Johannesburg",
        "weekly": [{"day": 0, "start": "08:00", "end": "17:00"}],
        "exceptions": [],
    }


def test_a_password_changed_here_is_set_by_the_user_service(client_as, ada, alice, monkeypatch):
    calls: list[str] = []
    real = people.update_user

    def spy(**kwargs: Any) -> User:
        calls.append(kwargs["changes"].password)
        return real(**kwargs)

    monkeypatch.setattr(people, "update_user", spy)
    new = "a-brand-new-passphrase"
    response = client_as(ada).post(
        f"/setup/accounts/user/{alice.pk}/password/",
        {"usable_password": "true", "password1": new, "password2": new},
    )
    assert response.status_code == 302, response.content
    assert calls == [new]
    alice.refresh_from_db()
    assert alice.check_password(new)
