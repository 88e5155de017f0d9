"""The set-up pages at /setup/: every model listed and opened by the admin, refused to
everyone else, and channel secrets that never come back out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.db.models import Model
from django.test import Client

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import ApiToken, Connection, Presence, Role, User
from chatdesk.chats.models import (
    ChatEvent,
    Comment,
    ContactOptOut,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Notification,
    NotificationKind,
)
from chatdesk.core import clock
from chatdesk.providers.models import Channel, ChannelKind, ProviderEvent, Template
from chatdesk.routing.models import BusinessHours, DatedException, Department, WeeklyInterval
from tests.support.personas import PASSWORD

WHATSAPP_SECRETS = {
    "access_token": "EAAG-access-token-do-not-show-1111",
    "app_secret": "app-secret-do-not-show-2222",
    "verify_token": "verify-token-do-not-show-3333",
}
SMS_SECRETS = {"auth_token": "twilio-auth-token-do-not-show-4444"}
ALL_SECRET_VALUES = [*WHATSAPP_SECRETS.values(), *SMS_SECRETS.values()]


def admin_url(obj_or_model: Model | type[Model], action: str = "") -> str:
    meta = obj_or_model._meta
    base = f"/setup/{meta.app_label}/{meta.model_name}/"
    if isinstance(obj_or_model, Model):
        return f"{base}{obj_or_model.pk}/{action or 'change'}/"
    return base + action


@pytest.fixture
def whatsapp(db: Any, sales: Department) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WhatsApp Sales",
        department=sales,
        config={"phone_number_id": "1234567890"},
        secrets=dict(WHATSAPP_SECRETS),
    )


@pytest.fixture
def sms(db: Any) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.SMS,
        name="SMS line",
        config={"account_sid": "AC123", "from_number": "+15005550006"},
        secrets=dict(SMS_SECRETS),
    )


@pytest.fixture
def one_of_each(make_chat, alice, sam, sales, whatsapp, sms) -> dict[type[Model], Model]:
    """A row of every model the set-up pages show."""
    now = clock.now()
    hours = BusinessHours.objects.create(timezone="Africa/Johannesburg")
    WeeklyInterval.objects.create(business_hours=hours, day=0, start=dt.time(8), end=dt.time(17))
    DatedException.objects.create(business_hours=hours, date=dt.date(2026, 12, 25), closed=True)
    template = Template.objects.create(
        channel=whatsapp, name="order_update", body="Hi {{1}}, your order {{2}} shipped."
    )
    chat = make_chat("+27821234567", name="Carol Customer", agent=alice)
    message = Message.objects.create(
        chat=chat, channel=chat.channel, direction=Direction.IN, text="Hello there", created_at=now
    )
    Message.objects.create(
        chat=chat,
        channel=chat.channel,
        direction=Direction.OUT,
        text="Hi Carol",
        author=alice,
        status=DeliveryStatus.SENT,
        created_at=now,
    )
    comment = Comment.objects.create(chat=chat, author=sam, body="@alice please", created_at=now)
    event = ChatEvent.objects.create(chat=chat, kind=EventKind.CREATED, created_at=now)
    notification = Notification.objects.create(
        recipient=alice, kind=NotificationKind.MENTION, chat=chat, comment=comment, created_at=now
    )
    opt_out = ContactOptOut.objects.create(
        contact=chat.contact, channel=sms, keyword="STOP", created_at=now
    )
    connection = Connection.objects.create(
        user=alice, channel_name="specific.abc!def", opened_at=now, last_seen_at=now
    )
    account_services.issue_api_token(user=alice, name="CRM")
    provider_event = ProviderEvent.objects.create(
        channel=whatsapp,
        kind="unreadable",
        reason="a message has no 'id'",
        payload={"from": "27821234567", "type": "text", "text": {"body": "<b>hi</b>"}},
        digest="0" * 64,
        received_at=now,
    )
    return {
        ProviderEvent: provider_event,
        User: alice,
        Department: sales,
        BusinessHours: hours,
        Channel: whatsapp,
        Template: template,
        type(chat.contact): chat.contact,
        ContactOptOut: opt_out,
        type(chat): chat,
        Message: message,
        Comment: comment,
        ChatEvent: event,
        Notification: notification,
        Connection: connection,
        ApiToken: ApiToken.objects.get(),
    }


MODELS = [
    "accounts.user",
    "accounts.connection",
    "accounts.apitoken",
    "routing.department",
    "routing.businesshours",
    "providers.channel",
    "providers.template",
    "providers.providerevent",
    "chats.contact",
    "chats.contactoptout",
    "chats.chat",
    "chats.message",
    "chats.comment",
    "chats.chatevent",
    "chats.notification",
]
ADDABLE = [
    "accounts.user",
    "routing.department",
    "routing.businesshours",
    "providers.channel",
    "providers.template",
    "chats.contact",
]


def _object(one_of_each: dict[type[Model], Model], label: str) -> Model:
    for model, obj in one_of_each.items():
        if model._meta.label_lower == label:
            return obj
    raise AssertionError(f"no object for {label}")


# The desk's own bookkeeping: off the set-up home, still open by address (and from a chat).
INTERNAL = [
    "accounts.connection",
    "chats.message",
    "chats.comment",
    "chats.chatevent",
    "chats.notification",
]


def test_the_index_lists_what_an_admin_sets_up_and_hides_the_internal_tables(client_as, ada):
    html = client_as(ada).get("/setup/").content.decode()
    assert "Set up the desk" in html
    for label in MODELS:
        app, model = label.split(".")
        link = f'href="/setup/{app}/{model}/"'
        if label in INTERNAL:
            assert link not in html, label
        else:
            assert link in html, label
    # Not on the app's own page either.
    chats = client_as(ada).get("/setup/chats/").content.decode()
    assert 'href="/setup/chats/chat/"' in chats
    assert 'href="/setup/chats/message/"' not in chats


@pytest.mark.parametrize("label", MODELS)
def test_admin_opens_every_list_change_and_history_page(client_as, ada, one_of_each, label):
    client = client_as(ada)
    obj = _object(one_of_each, label)
    model = type(obj)
    for url in (
        admin_url(model),
        admin_url(model) + "?q=a",
        admin_url(obj),
        admin_url(obj, "history"),
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


@pytest.mark.parametrize("label", ADDABLE)
def test_admin_opens_every_add_page(client_as, ada, label):
    app, model = label.split(".")
    response = client_as(ada).get(f"/setup/{app}/{model}/add/")
    assert response.status_code == 200


@pytest.mark.parametrize("label", ["chats.chat", "chats.message", "accounts.apitoken"])
def test_history_cannot_be_added_by_hand(client_as, ada, label):
    app, model = label.split(".")
    assert client_as(ada).get(f"/setup/{app}/{model}/add/").status_code == 403


@pytest.mark.parametrize("persona", ["sam", "alice"])
@pytest.mark.parametrize("label", MODELS)
def test_supervisors_and_agents_are_refused(request, client_as, one_of_each, persona, label):
    client = client_as(request.getfixturevalue(persona))
    obj = _object(one_of_each, label)
    for url in (admin_url(type(obj)), admin_url(obj)):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Only admins can open the set-up pages." in response.content.decode()


@pytest.mark.parametrize("persona", ["sam", "alice"])
def test_the_setup_index_is_refused_with_a_sentence(request, client_as, persona):
    response = client_as(request.getfixturevalue(persona)).get("/setup/")
    assert response.status_code == 403
    assert "Only admins can open the set-up pages." in response.content.decode()


def test_refused_users_cannot_post_either(client_as, sam, sales):
    response = client_as(sam).post(
        admin_url(sales), {"name": "Hijacked", "description": ""}, follow=False
    )
    assert response.status_code == 403
    sales.refresh_from_db()
    assert sales.name == "Sales"


def test_anonymous_goes_to_our_login_page(client, db):
    response = client.get("/setup/routing/department/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/setup/routing/department/"


def test_the_admin_login_page_is_ours(client, client_as, ada, sam):
    response = client.get("/setup/login/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/setup/"
    assert client_as(ada).get("/setup/login/")["Location"] == "/setup/"
    assert client_as(sam).get("/setup/login/").status_code == 403


def test_admin_logs_in_at_login_and_reaches_setup(client, ada):
    response = client.get("/setup/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/?next=/setup/"
    response = client.post(
        "/login/?next=/setup/", {"username": "ada", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/setup/"
    assert "Set up the desk" in response.content.decode()


# Channel secrets


def _channel_form(channel: Channel, **overrides: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": channel.kind,
        "name": channel.name,
        "department": channel.department_id or "",
        "is_active": "on" if channel.is_active else "",
        "out_of_hours_reply": channel.out_of_hours_reply,
        "queue_reply": channel.queue_reply,
        "nobody_available_reply": channel.nobody_available_reply,
        "end_keyword": channel.end_keyword,
        "access_token": "",
        "app_secret": "",
        "verify_token": "",
        "auth_token": "",
    }
    data.update({key: str(value) for key, value in channel.config.items()})
    data.update(overrides)
    return data


def _assert_no_secret(html: str, where: str) -> None:
    for value in ALL_SECRET_VALUES:
        assert value not in html, f"a secret shows on {where}"
    assert '"secrets"' not in html and 'name="secrets"' not in html, where


def test_channel_secrets_never_appear_on_any_setup_page(client_as, ada, one_of_each, sms):
    client = client_as(ada)
    whatsapp = one_of_each[Channel]
    # A saved change leaves a history entry; it must not carry values either.
    response = client.post(
        admin_url(whatsapp), _channel_form(whatsapp, access_token=WHATSAPP_SECRETS["access_token"])
    )
    assert response.status_code == 302
    urls = ["/setup/", "/setup/providers/", admin_url(Channel), admin_url(Channel, "add/")]
    for channel in (whatsapp, sms):
        urls += [admin_url(channel), admin_url(channel, "history"), admin_url(channel, "delete")]
    urls += [admin_url(type(obj)) for obj in one_of_each.values()]
    urls += [admin_url(obj) for obj in one_of_each.values()]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_no_secret(response.content.decode(), url)
    # Searching for a secret finds nothing: the search does not look into them.
    for value in ALL_SECRET_VALUES:
        html = client.get(admin_url(Channel), {"q": value}).content.decode()
        assert "0 results" in html, value
    for entry in LogEntry.objects.all():
        _assert_no_secret(entry.change_message + entry.object_repr, "the change log")


def test_the_channel_list_says_which_secrets_are_missing_by_name(client_as, ada, whatsapp, sms):
    sms.secrets = {}
    sms.save()
    html = client_as(ada).get(admin_url(Channel)).content.decode()
    assert "all set" in html
    assert "missing auth token" in html


def test_the_change_form_has_empty_password_inputs(client_as, ada, whatsapp):
    html = client_as(ada).get(admin_url(whatsapp)).content.decode()
    for name in ("access_token", "app_secret", "verify_token"):
        assert f'<input type="password" name="{name}"' in html
    assert 'name="auth_token"' not in html  # an SMS secret: not on a WhatsApp channel's page
    assert "Set. Leave blank to keep it" in html
    assert 'name="phone_number_id" value="1234567890"' in html  # shown and editable


def test_filtering_on_secrets_is_refused(client_as, ada, whatsapp):
    value = WHATSAPP_SECRETS["access_token"]
    for lookup in ("secrets__access_token", "secrets__contains", "secrets__icontains"):
        response = client_as(ada).get(admin_url(Channel) + f"?{lookup}={value}")
        assert response.status_code in (400, 302), lookup
        if response.status_code == 302:
            assert "e=1" in response["Location"]


def test_blank_secrets_keep_the_stored_ones(client_as, ada, whatsapp):
    response = client_as(ada).post(
        admin_url(whatsapp), _channel_form(whatsapp, name="WhatsApp Sales 2")
    )
    assert response.status_code == 302, response.content
    whatsapp.refresh_from_db()
    assert whatsapp.name == "WhatsApp Sales 2"
    assert whatsapp.secrets == WHATSAPP_SECRETS


def test_a_new_secret_replaces_only_that_one(client_as, ada, whatsapp):
    response = client_as(ada).post(
        admin_url(whatsapp),
        _channel_form(
            whatsapp,
            app_secret="  rotated-app-secret  ",
            phone_number_id="99999",
            graph_api_url="http://127.0.0.1:9/",
        ),
    )
    assert response.status_code == 302, response.content
    whatsapp.refresh_from_db()
    assert whatsapp.secrets == {**WHATSAPP_SECRETS, "app_secret": "rotated-app-secret"}
    # Stored as the API stores it: the channel service drops a URL's trailing slash.
    assert whatsapp.config == {"phone_number_id": "99999", "graph_api_url": "http://127.0.0.1:9"}


def test_adding_a_channel_stores_its_secrets(client_as, ada, sales):
    response = client_as(ada).post(
        admin_url(Channel, "add/"),
        {
            "kind": "sms",
            "name": "New SMS",
            "department": sales.pk,
            "is_active": "on",
            "out_of_hours_reply": "Closed",
            "queue_reply": "Busy",
            "end_keyword": "//end",
            "account_sid": "AC1",
            "from_number": "+15005550006",
            "auth_token": "fresh-token",
        },
    )
    assert response.status_code == 302, response.content
    channel = Channel.objects.get(name="New SMS")
    assert channel.secrets == {"auth_token": "fresh-token"}
    # With the kind's default API URL filled in, as the channel service does for the API.
    assert channel.config == {
        "account_sid": "AC1",
        "from_number": "+15005550006",
        "api_url": "https://api.twilio.com",
    }


def test_the_channel_page_edits_the_nobody_available_reply(client_as, ada, whatsapp):
    page = client_as(ada).get(admin_url(whatsapp)).content.decode()
    assert 'name="nobody_available_reply"' in page
    assert "no agent is online and available" in page  # what it is for
    response = client_as(ada).post(
        admin_url(whatsapp), _channel_form(whatsapp, nobody_available_reply="One moment, please.")
    )
    assert response.status_code == 302, response.content
    whatsapp.refresh_from_db()
    assert whatsapp.nobody_available_reply == "One moment, please."


def test_the_channel_pages_have_named_fields_and_no_json_box(client_as, ada, whatsapp, sms):
    add = client_as(ada).get(admin_url(Channel, "add/")).content.decode()
    assert 'name="config"' not in add
    for name in ("phone_number_id", "waba_id", "graph_api_url", "account_sid", "from_number"):
        assert f'name="{name}"' in add, name
    assert 'fieldset class="module aligned channel-kind kind-whatsapp' in add
    assert "web/setup_channel.js" in add  # shows the chosen kind's fields only
    page = client_as(ada).get(admin_url(sms)).content.decode()
    assert 'name="config"' not in page and 'name="phone_number_id"' not in page
    assert 'name="from_number" value="+15005550006"' in page
    assert 'name="kind"' not in page  # a channel's kind never changes


def test_a_setting_of_another_kind_is_refused(client_as, ada, sales):
    response = client_as(ada).post(
        admin_url(Channel, "add/"),
        {
            "kind": "whatsapp",
            "name": "New WhatsApp",
            "phone_number_id": "106540352242922",
            "from_number": "+15005550006",
            "auth_token": "x",
            "end_keyword": "//end",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Only SMS channels use a from number." in html
    assert "Only SMS channels use an auth token." in html
    assert not Channel.objects.filter(name="New WhatsApp").exists()


# Users


def test_changing_the_role_here_moves_the_staff_flags(client_as, ada, sales):
    user = account_services.create_user(
        username="eve", password=PASSWORD, role=Role.ADMIN, department_ids=[sales.pk]
    )
    assert user.is_superuser
    client = client_as(ada)
    data = {
        "username": "eve",
        "role": Role.AGENT,
        "display_name": "Eve",
        "departments": [sales.pk],
        "capacity": 3,
        "presence": Presence.AWAY,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
    }
    response = client.post(admin_url(user), data)
    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert (user.role, user.is_staff, user.is_superuser, user.is_admin) == (
        Role.AGENT,
        False,
        False,
        False,
    )
    assert user.capacity == 3
    assert user.presence == Presence.AWAY and user.presence_changed_at is not None


def test_a_capacity_out_of_range_is_a_readable_error(client_as, ada, alice, sales):
    data = {
        "username": "alice",
        "role": Role.AGENT,
        "display_name": "Alice",
        "departments": [sales.pk],
        "capacity": 0,
        "presence": Presence.OFFLINE,
        "is_active": "on",
    }
    response = client_as(ada).post(admin_url(alice), data)
    assert response.status_code == 200
    assert "Capacity must be between 1 and 100 open chats." in response.content.decode()


def test_the_user_list_shows_role_presence_and_departments(client_as, ada, alice, sam):
    html = client_as(ada).get(admin_url(User)).content.decode()
    assert "Alice Agent" in html and "Sam Supervisor" in html
    assert "Sales" in html
    assert "Offline" in html


def test_api_tokens_show_no_hash(client_as, ada, alice):
    account_services.issue_api_token(user=alice, name="CRM")
    token = ApiToken.objects.get()
    client = client_as(ada)
    for url in (admin_url(ApiToken), admin_url(token)):
        html = client.get(url).content.decode()
        assert token.key_hash not in html
        assert token.prefix in html
    response = client.get(admin_url(ApiToken) + f"?key_hash__startswith={token.key_hash[:4]}")
    assert response.status_code in (400, 302)


def test_adding_an_admin_here_gives_the_setup_pages(client_as, ada, sales):
    response = client_as(ada).post(
        admin_url(User, "add/"),
        {
            "username": "zoe",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": Role.ADMIN,
            "display_name": "Zoe",
            "departments": [sales.pk],
            "capacity": 5,
        },
    )
    assert response.status_code == 302, response.content
    zoe = User.objects.get(username="zoe")
    assert (zoe.role, zoe.is_staff, zoe.is_superuser) == (Role.ADMIN, True, True)
    assert zoe.check_password(PASSWORD)
    assert list(zoe.departments.all()) == [sales]
    client = Client()
    client.force_login(zoe)
    assert client.get("/setup/").status_code == 200


def test_view_site_from_setup_opens_the_console(client_as, ada):
    html = client_as(ada).get("/setup/").content.decode()
    assert 'href="/supervisor/">View site</a>' in html


def test_what_a_provider_sent_unread_is_shown_to_the_admin_with_the_reason(
    client_as, ada, one_of_each, whatsapp
):
    client = client_as(ada)
    event = one_of_each[ProviderEvent]
    listing = client.get(admin_url(ProviderEvent)).content.decode()
    assert "a message has no &#x27;id&#x27;" in listing
    page = client.get(admin_url(event)).content.decode()
    # As the provider sent it, escaped.
    assert "&quot;body&quot;: &quot;&lt;b&gt;hi&lt;/b&gt;&quot;" in page
    assert "<b>hi</b>" not in page
    # The channel's page counts them and links to them.
    channel_page = client.get(admin_url(whatsapp)).content.decode()
    assert f"/setup/providers/providerevent/?channel__id__exact={whatsapp.pk}" in channel_page
    assert "1 item kept" in channel_page
    assert client.post(admin_url(event, "delete"), {"post": "yes"}).status_code == 403
    assert ProviderEvent.objects.filter(pk=event.pk).exists()


def test_a_channel_with_nothing_kept_says_so(client_as, ada, whatsapp):
    page = client_as(ada).get(admin_url(whatsapp)).content.decode()
    assert "None: every item the provider sent was read." in page
