"""The set-up pages made for the job (issue 15, point 9): a channel's settings by name
with the API's checks, secrets before a channel is active, a connection test against the
providers' own reads, a time-zone picker, names unique ignoring case, and an unlock for a
user locked out of signing in."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import IntegrityError, transaction
from django.test import Client

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import User
from chatdesk.core.errors import Conflict, Forbidden
from chatdesk.providers import services as provider_services
from chatdesk.providers.connection import check_connection
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.routing import services as routing_services
from chatdesk.routing.models import BusinessHours, Department
from tests.support.fakes import FakeGraph, FakeTwilio
from tests.support.personas import PASSWORD

pytestmark = pytest.mark.django_db

ADD = "/setup/providers/channel/add/"


def page_says(response: Any, sentence: str) -> None:
    assert response.status_code == 200, response.status_code
    assert html.escape(sentence) in response.content.decode()


def whatsapp_form(**overrides: str) -> dict[str, str]:
    data = {
        "kind": "whatsapp",
        "name": "WhatsApp Sales",
        "department": "",
        "is_active": "on",
        "phone_number_id": "106540352242922",
        "waba_id": "",
        "graph_api_url": "",
        "access_token": "EAAG-x",
        "app_secret": "app-s",
        "verify_token": "verify-s",
        "out_of_hours_reply": "Closed",
        "nobody_available_reply": "Busy",
        "queue_reply": "Queue",
        "end_keyword": "//end",
    }
    data.update(overrides)
    return data


# A channel's settings, by name, checked by the providers service


def test_a_phone_number_typed_as_the_phone_number_id_is_refused_as_the_api_refuses_it(
    client_as, api_as, ada
):
    api = api_as(ada).post(
        "/channels",
        {"kind": "whatsapp", "name": "WA", "config": {"phone_number_id": "+27 82 123 4567"}},
    )
    assert api.status_code == 400
    sentence = api.json()["detail"]
    assert "digits only" in sentence and "not the phone number itself" in sentence
    page_says(client_as(ada).post(ADD, whatsapp_form(phone_number_id="+27 82 123 4567")), sentence)
    assert not Channel.objects.exists()


def test_an_sms_number_not_in_e164_is_refused_on_the_page(client_as, ada):
    response = client_as(ada).post(
        ADD,
        {
            "kind": "sms",
            "name": "SMS",
            "is_active": "on",
            "account_sid": "AC1",
            "from_number": "0821234567",
            "auth_token": "t",
            "end_keyword": "//end",
        },
    )
    page_says(
        response, "config.from_number must be a phone number in E.164 form, such as +14155552671."
    )
    assert not Channel.objects.exists()


def test_a_channel_without_its_secrets_is_saved_inactive_and_cannot_be_made_active(
    client_as, api_as, ada
):
    sentence = (
        "A WhatsApp channel cannot be active without its access token, app secret and verify "
        "token: set them, or save the channel inactive."
    )
    client = client_as(ada)
    page_says(
        client.post(ADD, whatsapp_form(access_token="", app_secret="", verify_token="")),
        sentence,
    )
    saved = client.post(
        ADD, whatsapp_form(is_active="", access_token="", app_secret="", verify_token="")
    )
    assert saved.status_code == 302, saved.content
    channel = Channel.objects.get()
    assert (channel.is_active, channel.secrets) == (False, {})
    # Made active, on the page and by the API: refused with the same sentence.
    form = whatsapp_form(access_token="", app_secret="", verify_token="")
    page_says(client.post(f"/setup/providers/channel/{channel.pk}/change/", form), sentence)
    api = api_as(ada).patch(f"/channels/{channel.pk}", {"is_active": True})
    assert (api.status_code, api.json()) == (400, {"detail": sentence})
    channel.refresh_from_db()
    assert channel.is_active is False
    # With the secrets, it may.
    made = client.post(f"/setup/providers/channel/{channel.pk}/change/", whatsapp_form())
    assert made.status_code == 302, made.content
    channel.refresh_from_db()
    assert channel.is_active is True
    assert channel.secrets == {
        "access_token": "EAAG-x",
        "app_secret": "app-s",
        "verify_token": "verify-s",
    }


def test_the_channel_list_and_page_say_set_or_not_set_never_the_value(client_as, ada):
    channel = provider_services.create_channel(
        kind="sms",
        name="SMS",
        config={"account_sid": "AC1", "from_number": "+15005550006"},
        is_active=False,
        by=ada,
    )
    page = client_as(ada).get(f"/setup/providers/channel/{channel.pk}/change/").content.decode()
    assert "Not set." in page
    listing = client_as(ada).get("/setup/providers/channel/").content.decode()
    assert "missing auth token" in listing


# Names unique ignoring case


def test_a_channel_name_taken_in_another_case_is_refused_by_page_and_api(client_as, api_as, ada):
    provider_services.create_channel(kind="sandbox", name="Support line", by=ada)
    api = api_as(ada).post("/channels", {"kind": "sandbox", "name": "SUPPORT LINE"})
    assert api.status_code == 409
    sentence = api.json()["detail"]
    assert sentence == "A channel named 'SUPPORT LINE' already exists; give this one another name."
    page_says(
        client_as(ada).post(ADD, {"kind": "sandbox", "name": "support line", "end_keyword": "x"}),
        "A channel named 'support line' already exists; give this one another name.",
    )
    other = provider_services.create_channel(kind="sandbox", name="Other", by=ada)
    renamed = api_as(ada).patch(f"/channels/{other.pk}", {"name": "Support Line"})
    assert renamed.status_code == 409
    assert Channel.objects.count() == 2


def test_the_database_refuses_names_alike_but_for_case(db):
    """The index on Lower(name): what a race past the service's check runs into (on
    PostgreSQL and SQLite), and the service turns into the same 409."""
    Channel.objects.create(kind=ChannelKind.SANDBOX, name="Support")
    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.create(kind=ChannelKind.SANDBOX, name="sUPPORT")
    Department.objects.create(name="Billing")
    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.create(name="BILLING")


def test_renaming_a_channel_to_its_own_name_in_another_case_is_allowed(ada):
    channel = provider_services.create_channel(kind="sandbox", name="support", by=ada)
    renamed = provider_services.update_channel(
        channel=channel, changes=provider_services.ChannelChanges(name="Support"), by=ada
    )
    assert renamed.name == "Support"
    routing_services.create_department(name="Billing", by=ada)
    with pytest.raises(Conflict, match=r"A department named 'BILLING' already exists\."):
        routing_services.create_department(name="BILLING", by=ada)


# Test connection, against the fake Meta and Twilio


def _whatsapp(fake: FakeGraph, ada: User, **config: str) -> Channel:
    return provider_services.create_channel(
        kind="whatsapp",
        name="WhatsApp Sales",
        config={
            "phone_number_id": fake.phone_number_id,
            "graph_api_url": fake.graph_api_url,
            "access_token": fake.access_token,
            "app_secret": "s",
            "verify_token": "v",
            **config,
        },
        by=ada,
    )


def test_test_connection_reads_the_whatsapp_number_with_the_bearer_token(
    client_as, ada, fake_graph: FakeGraph
):
    channel = _whatsapp(fake_graph, ada)
    response = client_as(ada).post(
        f"/setup/providers/channel/{channel.pk}/test-connection/", follow=True
    )
    assert response.redirect_chain[-1][0] == f"/setup/providers/channel/{channel.pk}/change/"
    page_says(
        response,
        "WhatsApp Sales: connection works. WhatsApp knows this number: +1 555-010-0123 "
        "(Chat Desk Test).",
    )
    read = fake_graph.last
    assert (read.method, read.path) == ("GET", f"/v21.0/{fake_graph.phone_number_id}")
    assert read.bearer == fake_graph.access_token
    assert fake_graph.sent == []  # nothing was sent to anyone


def test_test_connection_says_when_meta_refuses_the_token_or_the_id(
    client_as, api_as, ada, fake_graph: FakeGraph
):
    channel = _whatsapp(fake_graph, ada, access_token="EAAG-revoked")
    page = client_as(ada).post(
        f"/setup/providers/channel/{channel.pk}/test-connection/", follow=True
    )
    page_says(
        page,
        "WhatsApp Sales: connection failed. Meta refused the access token (Invalid OAuth "
        "access token - Cannot parse access token). Paste a valid token from Meta's app "
        "dashboard into the access token field.",
    )
    provider_services.update_channel(
        channel=channel,
        changes=provider_services.ChannelChanges(
            config={"access_token": fake_graph.access_token, "phone_number_id": "999"}
        ),
        by=ada,
    )
    api = api_as(ada).post(f"/channels/{channel.pk}/connection-test")
    assert api.status_code == 200
    assert api.json()["ok"] is False
    assert api.json()["detail"].startswith(
        "Meta knows no phone number with the ID 999 that this token may use"
    )


def test_test_connection_reads_the_twilio_account_with_basic_auth(
    client_as, ada, fake_twilio: FakeTwilio
):
    channel = provider_services.create_channel(
        kind="sms",
        name="SMS line",
        config={
            "account_sid": fake_twilio.account_sid,
            "auth_token": fake_twilio.auth_token,
            "from_number": fake_twilio.from_number,
            "api_url": fake_twilio.api_url,
        },
        by=ada,
    )
    page = client_as(ada).post(
        f"/setup/providers/channel/{channel.pk}/test-connection/", follow=True
    )
    page_says(
        page,
        "SMS line: connection works. The SMS provider knows this account: Chat Desk Test (active).",
    )
    read = fake_twilio.last
    assert (read.method, read.path) == (
        "GET",
        f"/2010-04-01/Accounts/{fake_twilio.account_sid}.json",
    )
    assert read.basic_auth == (fake_twilio.account_sid, fake_twilio.auth_token)
    provider_services.update_channel(
        channel=channel,
        changes=provider_services.ChannelChanges(config={"auth_token": "wrong"}),
        by=ada,
    )
    result = check_connection(channel=Channel.objects.get(pk=channel.pk), by=ada)
    assert result == type(result)(
        False,
        "The SMS provider refused the account SID and auth token (20003 Authenticate). "
        "Check both in the provider's console.",
    )


def test_test_connection_without_secrets_or_server_says_so(ada):
    channel = provider_services.create_channel(
        kind="sms",
        name="SMS",
        config={"account_sid": "AC1", "from_number": "+15005550006"},
        is_active=False,
        by=ada,
    )
    result = check_connection(channel=channel, by=ada)
    assert (result.ok, result.sentence) == (
        False,
        "Set the channel's auth token first: the provider needs it.",
    )
    sandbox = provider_services.create_channel(kind="sandbox", name="Sandbox", by=ada)
    assert check_connection(channel=sandbox, by=ada).ok is True


def test_only_admins_test_connections(client_as, sam, ada):
    channel = provider_services.create_channel(kind="sandbox", name="Sandbox", by=ada)
    with pytest.raises(Forbidden):
        check_connection(channel=channel, by=sam)
    response = client_as(sam).post(f"/setup/providers/channel/{channel.pk}/test-connection/")
    assert response.status_code == 403


# The time-zone picker


def test_business_hours_take_their_zone_from_a_grouped_select(client_as, ada):
    page = client_as(ada).get("/setup/routing/businesshours/add/").content.decode()
    assert '<select name="timezone"' in page
    assert '<optgroup label="Africa">' in page
    assert '<option value="Africa/Johannesburg">Johannesburg</option>' in page
    assert '<option value="UTC"' in page


def test_a_stored_unknown_zone_stays_selected_and_marked(client_as, ada):
    hours = BusinessHours.objects.create(timezone="Mars/Olympus")
    page = client_as(ada).get(f"/setup/routing/businesshours/{hours.pk}/change/").content.decode()
    assert (
        '<option value="Mars/Olympus" selected>Mars/Olympus (not a time zone this server '
        "knows)</option>"
    ) in page


# Unlocking a user locked out of signing in

LOCKED = "Too many failed sign-ins for this username from your address."


def _lock_out(username: str, address: str = "203.0.113.7") -> Any:
    client = Client(REMOTE_ADDR=address)
    answer = None
    for _ in range(settings.AXES_FAILURE_LIMIT):
        answer = client.post("/login/", {"username": username, "password": "wrong"})
    return answer


def test_the_lockout_message_points_to_the_unlock_on_the_set_up_pages(alice):
    answer = _lock_out("alice")
    assert answer.status_code == 429
    page = answer.content.decode()
    assert LOCKED in page
    assert (
        html.escape(
            "ask a desk admin to unlock the account: on the set-up pages, Users → your username "
            "→ Unlock sign-in."
        )
        in page
    )


def test_an_admin_unlocks_a_locked_out_user_on_their_page(client_as, ada, alice):
    _lock_out("alice")
    url = f"/setup/accounts/user/{alice.pk}/change/"
    page = client_as(ada).get(url).content.decode()
    assert "Locked out from 203.0.113.7 after 5 failed sign-ins" in page
    assert "Unlock sign-in" in page
    assert client_as(ada).get(f"/setup/accounts/user/{alice.pk}/unlock/").status_code == 405

    done = client_as(ada).post(f"/setup/accounts/user/{alice.pk}/unlock/", follow=True)
    assert done.redirect_chain[-1][0] == url
    after = done.content.decode()
    assert "Alice Agent (alice) can sign in again." in after
    assert "Not locked out." in after and "Unlock sign-in" not in after
    entry = LogEntry.objects.get(object_id=str(alice.pk))
    assert (entry.user_id, entry.get_change_message()) == (ada.pk, "Unlocked signing in.")
    signed_in = Client(REMOTE_ADDR="203.0.113.7").post(
        "/login/", {"username": "alice", "password": PASSWORD}
    )
    assert signed_in.status_code == 302


def test_only_admins_unlock(client_as, sam, alice):
    _lock_out("alice")
    with pytest.raises(Forbidden):
        account_services.unlock_sign_in(user=alice, by=sam)
    assert client_as(sam).post(f"/setup/accounts/user/{alice.pk}/unlock/").status_code == 403
    assert _lock_out("alice", "203.0.113.7").status_code == 429  # still locked


def test_a_sandbox_is_set_to_keep_whatsapps_window_on_its_page(client_as, ada):
    channel = provider_services.create_channel(kind="sandbox", name="Try it", by=ada)
    client = client_as(ada)
    page = client.get(f"/setup/providers/channel/{channel.pk}/change/").content.decode()
    assert 'name="contact_window"' in page
    assert ">WhatsApp&#x27;s 24-hour window</option>" in page
    form = {
        "kind": "sandbox",
        "name": "Try it",
        "department": "",
        "is_active": "on",
        "contact_window": "whatsapp",
        "out_of_hours_reply": "Closed",
        "nobody_available_reply": "Busy",
        "queue_reply": "Queue",
        "end_keyword": "//end",
    }
    saved = client.post(f"/setup/providers/channel/{channel.pk}/change/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    channel.refresh_from_db()
    assert channel.config == {"contact_window": "whatsapp"}

    cleared = client.post(
        f"/setup/providers/channel/{channel.pk}/change/", {**form, "contact_window": ""}
    )
    assert cleared.status_code == 302
    channel.refresh_from_db()
    assert channel.config == {}
