"""/channels: admins add our numbers; secrets are written and never read back."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from chatdesk.providers.models import (
    DEFAULT_NOBODY_AVAILABLE_REPLY,
    DEFAULT_OUT_OF_HOURS_REPLY,
    Channel,
    ChannelKind,
)

ACCESS_TOKEN = "EAAG-access-token-7f3a9c"
APP_SECRET = "app-secret-b81d44"
VERIFY_TOKEN = "verify-token-5e2210"
AUTH_TOKEN = "twilio-auth-token-c0ffee"
SECRETS = (ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, AUTH_TOKEN)

WHATSAPP_CONFIG = {
    "phone_number_id": "106540352242922",
    "access_token": ACCESS_TOKEN,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
}
WHATSAPP: dict[str, Any] = {"kind": "whatsapp", "name": "WhatsApp Sales", "config": WHATSAPP_CONFIG}
SMS_CONFIG = {
    "account_sid": "AC0123456789abcdef0123456789abcdef",
    "auth_token": AUTH_TOKEN,
    "from_number": "+14155552671",
}
SMS: dict[str, Any] = {"kind": "sms", "name": "SMS line", "config": SMS_CONFIG}


def assert_no_secret(response) -> None:
    for secret in SECRETS:
        assert secret.encode() not in response.content, secret


def test_admin_adds_a_whatsapp_channel(api_as, ada, sales):
    response = api_as(ada).post(
        "/channels",
        {
            **WHATSAPP,
            "department_id": sales.pk,
            "queue_reply": "Hold on, please.",
            "config": {**WHATSAPP_CONFIG, "waba_id": "102290129340398"},
        },
    )

    assert response.status_code == 201, response.content
    assert_no_secret(response)
    channel = Channel.objects.get()
    assert response.json() == {
        "id": channel.pk,
        "kind": "whatsapp",
        "name": "WhatsApp Sales",
        "department_id": sales.pk,
        "out_of_hours_reply": DEFAULT_OUT_OF_HOURS_REPLY,
        "queue_reply": "Hold on, please.",
        "nobody_available_reply": DEFAULT_NOBODY_AVAILABLE_REPLY,
        "end_keyword": "//end",
        "is_active": True,
        "send_rate": 80,  # the desk's default (CHATDESK_SEND_RATE)
        "config": {
            "phone_number_id": "106540352242922",
            "graph_api_url": "https://graph.facebook.com/v21.0",
            "waba_id": "102290129340398",
        },
        "secrets_set": ["access_token", "app_secret", "verify_token"],
        "webhook_url": f"http://testserver/webhooks/whatsapp/{channel.pk}",
    }
    assert channel.department == sales
    assert channel.secrets == {
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    }
    assert channel.config == {
        "phone_number_id": "106540352242922",
        "graph_api_url": "https://graph.facebook.com/v21.0",
        "waba_id": "102290129340398",
    }


def test_admin_adds_an_sms_channel_with_its_own_api_url(api_as, ada):
    response = api_as(ada).post(
        "/channels",
        {
            **SMS,
            "out_of_hours_reply": "Closed.",
            "end_keyword": "#done",
            "config": {
                **SMS_CONFIG,
                "from_number": "+1 415 555 2671",
                "api_url": "http://127.0.0.1:9000/",
            },
        },
    )

    assert response.status_code == 201, response.content
    assert_no_secret(response)
    channel = Channel.objects.get()
    body = response.json()
    assert body["config"] == {
        "account_sid": "AC0123456789abcdef0123456789abcdef",
        "from_number": "+14155552671",
        "api_url": "http://127.0.0.1:9000",
    }
    assert body["secrets_set"] == ["auth_token"]
    assert body["webhook_url"] == f"http://testserver/webhooks/sms/{channel.pk}"
    assert body["department_id"] is None
    assert channel.secrets == {"auth_token": AUTH_TOKEN}
    assert channel.config["from_number"] == "+14155552671"
    assert (channel.out_of_hours_reply, channel.end_keyword) == ("Closed.", "#done")


def test_the_nobody_available_reply_is_set_and_changed_beside_the_out_of_hours_one(api_as, ada):
    created = api_as(ada).post(
        "/channels", {**SMS, "nobody_available_reply": "  All hands are busy.  "}
    )
    assert created.status_code == 201, created.content
    assert created.json()["nobody_available_reply"] == "All hands are busy."
    assert created.json()["out_of_hours_reply"] == DEFAULT_OUT_OF_HOURS_REPLY
    channel_id = created.json()["id"]
    patched = api_as(ada).patch(f"/channels/{channel_id}", {"nobody_available_reply": ""})
    assert patched.status_code == 200, patched.content
    assert patched.json()["nobody_available_reply"] == ""  # none is sent
    assert Channel.objects.get(pk=channel_id).nobody_available_reply == ""
    too_long = api_as(ada).patch(f"/channels/{channel_id}", {"nobody_available_reply": "x" * 5000})
    assert too_long.status_code == 400
    assert "nobody-available reply" in too_long.json()["detail"]


def test_sms_api_url_defaults_to_twilio(api_as, ada):
    response = api_as(ada).post("/channels", SMS)

    assert response.status_code == 201
    assert Channel.objects.get().config["api_url"] == "https://api.twilio.com"


def test_sandbox_channel_has_no_config_and_no_webhook(api_as, ada):
    response = api_as(ada).post("/channels", {"kind": "sandbox", "name": "Try it"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["config"] == {}
    assert body["secrets_set"] == []
    assert body["webhook_url"] is None
    channel = Channel.objects.get()
    assert (channel.kind, channel.config, channel.secrets) == ("sandbox", {}, {})


@override_settings(PUBLIC_URL="https://desk.example.com")
def test_webhook_url_uses_the_public_url(api_as, ada):
    response = api_as(ada).post("/channels", SMS)

    channel = Channel.objects.get()
    assert response.json()["webhook_url"] == f"https://desk.example.com/webhooks/sms/{channel.pk}"


def test_missing_config_keys_are_named(api_as, ada):
    response = api_as(ada).post(
        "/channels", {**WHATSAPP, "config": {"phone_number_id": "1", "access_token": ACCESS_TOKEN}}
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "A WhatsApp channel cannot be active without its app secret and verify "
        "token: set them, or save the channel inactive."
    }
    assert_no_secret(response)
    assert not Channel.objects.exists()


def test_unknown_config_keys_are_named(api_as, ada):
    response = api_as(ada).post(
        "/channels", {**SMS, "config": {**SMS_CONFIG, "sender": "x", "region": "eu"}}
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "An SMS channel's config does not take region and sender; it takes "
        "account_sid, auth_token, from_number and api_url."
    }
    assert not Channel.objects.exists()


def test_sandbox_takes_only_its_contact_window(api_as, ada):
    response = api_as(ada).post(
        "/channels", {"kind": "sandbox", "name": "Try", "config": {"token": "x"}}
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "A Sandbox channel's config does not take token; it takes contact_window."
    }
    assert not Channel.objects.exists()


def test_a_sandbox_channel_can_keep_whatsapps_window(api_as, ada):
    api = api_as(ada)
    refused = api.post(
        "/channels", {"kind": "sandbox", "name": "Try", "config": {"contact_window": "sms"}}
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "config.contact_window can only be 'whatsapp' (keep WhatsApp's 24-hour "
        "contact window) or empty (no window); got 'sms'."
    }
    assert not Channel.objects.exists()

    created = api.post(
        "/channels",
        {"kind": "sandbox", "name": "Try", "config": {"contact_window": "whatsapp"}},
    )
    assert created.status_code == 201, created.content
    assert created.json()["config"] == {"contact_window": "whatsapp"}

    channel_id = created.json()["id"]
    cleared = api.patch(f"/channels/{channel_id}", {"config": {"contact_window": None}})
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["config"] == {}


@pytest.mark.parametrize("number", ["0821234567", "+1415", "+999 123", "phone"])
def test_from_number_must_be_e164(api_as, ada, number):
    response = api_as(ada).post(
        "/channels", {**SMS, "config": {**SMS_CONFIG, "from_number": number}}
    )

    assert response.status_code == 400
    assert "config.from_number" in response.json()["detail"]
    assert_no_secret(response)
    assert not Channel.objects.exists()


def test_from_number_without_plus_gets_a_sentence(api_as, ada):
    response = api_as(ada).post(
        "/channels", {**SMS, "config": {**SMS_CONFIG, "from_number": "4155552671"}}
    )

    assert response.json() == {
        "detail": "config.from_number must be a phone number in E.164 form, such as +14155552671."
    }


def test_bad_api_url_is_a_400(api_as, ada):
    response = api_as(ada).post(
        "/channels", {**WHATSAPP, "config": {**WHATSAPP_CONFIG, "graph_api_url": "ftp://x"}}
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "config.graph_api_url must be an http:// or https:// URL; got 'ftp://x'."
    }
    assert not Channel.objects.exists()


def test_config_values_must_be_strings(api_as, ada):
    response = api_as(ada).post(
        "/channels", {**WHATSAPP, "config": {**WHATSAPP_CONFIG, "phone_number_id": 12}}
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "config.phone_number_id must be a string."}


def test_bad_kind_missing_name_and_unknown_department(api_as, ada):
    client = api_as(ada)
    bad_kind = client.post("/channels", {**SMS, "kind": "telegram"})
    assert bad_kind.status_code == 400
    assert bad_kind.json() == {"detail": "kind: Input should be 'whatsapp', 'sms' or 'sandbox'."}

    blank = client.post("/channels", {**SMS, "name": "  "})
    assert blank.status_code == 400
    assert blank.json() == {"detail": "A channel needs a name."}

    department = client.post("/channels", {**SMS, "department_id": 4242})
    assert department.status_code == 400
    assert department.json() == {"detail": "No department has the id 4242."}
    assert not Channel.objects.exists()


def test_only_admins_add_channels(api_as, alice, sam):
    for user in (alice, sam):
        response = api_as(user).post("/channels", WHATSAPP)
        assert response.status_code == 403
        assert response.json() == {"detail": "Only an admin can change the desk's set-up."}
    assert not Channel.objects.exists()


def test_anonymous_gets_401(api_as, sandbox):
    client = api_as(None)
    for response in (
        client.get("/channels"),
        client.post("/channels", WHATSAPP),
        client.get(f"/channels/{sandbox.pk}"),
        client.patch(f"/channels/{sandbox.pk}", {"name": "x"}),
    ):
        assert response.status_code == 401
        assert response.json()["detail"].startswith("Sign in")
    sandbox.refresh_from_db()
    assert sandbox.name == "Sandbox"


def _channels(api_as, ada) -> tuple[int, int]:
    whatsapp = api_as(ada).post("/channels", WHATSAPP).json()["id"]
    sms = api_as(ada).post("/channels", SMS).json()["id"]
    return whatsapp, sms


def test_everyone_lists_and_reads_channels_without_secrets(api_as, ada, alice, sandbox):
    whatsapp, sms = _channels(api_as, ada)

    listing = api_as(alice).get("/channels")
    assert listing.status_code == 200
    assert_no_secret(listing)
    assert [c["name"] for c in listing.json()] == ["SMS line", "Sandbox", "WhatsApp Sales"]
    for channel_id in (whatsapp, sms):
        one = api_as(alice).get(f"/channels/{channel_id}")
        assert one.status_code == 200
        assert one.json()["id"] == channel_id
        assert_no_secret(one)


def test_stray_secrets_in_config_are_never_shown(api_as, ada):
    Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="Imported",
        config={"phone_number_id": "1", "access_token": ACCESS_TOKEN},
        secrets={"app_secret": APP_SECRET},
    )

    response = api_as(ada).get("/channels")

    assert_no_secret(response)
    assert response.json()[0]["config"] == {"phone_number_id": "1"}
    assert response.json()[0]["secrets_set"] == ["app_secret"]


def test_unknown_channel_is_404(api_as, ada, alice):
    response = api_as(alice).get("/channels/9999")
    assert response.status_code == 404
    assert response.json() == {"detail": "No channel has the id 9999."}
    assert api_as(ada).patch("/channels/9999", {"name": "x"}).status_code == 404


def test_admin_patches_fields_and_replaces_one_secret(api_as, ada, support):
    whatsapp, _ = _channels(api_as, ada)
    new_token = "EAAG-rotated-token-99"

    response = api_as(ada).patch(
        f"/channels/{whatsapp}",
        {
            "name": "WhatsApp Support",
            "department_id": support.pk,
            "out_of_hours_reply": "See you tomorrow.",
            "config": {"access_token": new_token, "graph_api_url": "http://fake-meta:8080/v21.0"},
        },
    )

    assert response.status_code == 200, response.content
    assert_no_secret(response)
    assert new_token.encode() not in response.content
    body = response.json()
    assert body["name"] == "WhatsApp Support"
    assert body["department_id"] == support.pk
    assert body["config"]["graph_api_url"] == "http://fake-meta:8080/v21.0"
    assert body["secrets_set"] == ["access_token", "app_secret", "verify_token"]
    channel = Channel.objects.get(pk=whatsapp)
    assert channel.secrets == {
        "access_token": new_token,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    }
    assert channel.config["phone_number_id"] == "106540352242922"
    assert channel.out_of_hours_reply == "See you tomorrow."
    assert channel.department == support


def test_patch_clears_department_and_optional_keys_and_deactivates(api_as, ada, sales):
    created = (
        api_as(ada)
        .post(
            "/channels",
            {
                **WHATSAPP,
                "department_id": sales.pk,
                "config": {**WHATSAPP_CONFIG, "waba_id": "7"},
            },
        )
        .json()
    )

    response = api_as(ada).patch(
        f"/channels/{created['id']}",
        {"department_id": None, "is_active": False, "config": {"waba_id": None}},
    )

    assert response.status_code == 200, response.content
    channel = Channel.objects.get(pk=created["id"])
    assert channel.department is None
    assert channel.is_active is False
    assert "waba_id" not in channel.config
    assert channel.secrets["access_token"] == ACCESS_TOKEN


def test_patch_without_department_keeps_it(api_as, ada, sales):
    created = api_as(ada).post("/channels", {**SMS, "department_id": sales.pk}).json()

    api_as(ada).patch(f"/channels/{created['id']}", {"name": "Renamed"})

    channel = Channel.objects.get(pk=created["id"])
    assert (channel.name, channel.department) == ("Renamed", sales)


def test_patch_that_drops_a_required_secret_changes_nothing(api_as, ada):
    whatsapp, _ = _channels(api_as, ada)

    response = api_as(ada).patch(
        f"/channels/{whatsapp}", {"name": "Renamed", "config": {"app_secret": None}}
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "A WhatsApp channel cannot be active without its app secret: set it, or "
        "save the channel inactive."
    }
    channel = Channel.objects.get(pk=whatsapp)
    assert channel.name == "WhatsApp Sales"
    assert channel.secrets["app_secret"] == APP_SECRET


def test_patch_with_unknown_key_or_other_kind_is_a_400(api_as, ada):
    _, sms = _channels(api_as, ada)

    unknown = api_as(ada).patch(f"/channels/{sms}", {"config": {"access_token": "x"}})
    assert unknown.status_code == 400
    assert "does not take access_token" in unknown.json()["detail"]

    kind = api_as(ada).patch(f"/channels/{sms}", {"kind": "whatsapp"})
    assert kind.status_code == 400
    assert kind.json() == {
        "detail": "A channel's kind cannot change (this one is sms); add a new channel."
    }
    assert Channel.objects.get(pk=sms).kind == "sms"


def test_only_admins_patch_channels(api_as, alice, sam, sandbox):
    for user in (alice, sam):
        response = api_as(user).patch(f"/channels/{sandbox.pk}", {"name": "Mine"})
        assert response.status_code == 403
        assert response.json() == {"detail": "Only an admin can change the desk's set-up."}
    sandbox.refresh_from_db()
    assert sandbox.name == "Sandbox"


def test_openapi_documents_every_answer(api_as, ada):
    schema = api_as(ada).get("/openapi.json").json()
    post = schema["paths"]["/api/v1/channels"]["post"]["responses"]
    assert {"201", "400", "401", "403"} <= set(post)
    patch = schema["paths"]["/api/v1/channels/{channel_id}"]["patch"]["responses"]
    assert {"200", "400", "401", "403", "404"} <= set(patch)


def test_listing_channels_costs_the_same_queries_however_many(api_as, alice, sandbox, sales):
    client = api_as(alice)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/channels").json()) == 1
    for n in range(3):
        Channel.objects.create(kind=ChannelKind.SANDBOX, name=f"More {n}", department=sales)

    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/channels").json()) == 4

    assert len(many) == len(few)
