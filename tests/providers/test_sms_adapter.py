"""The Twilio-compatible SMS adapter against Twilio's documented requests: the inbound and
status-callback form fields in ``fixtures/twilio``, X-Twilio-Signature, and sending to a
fake Twilio over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import time_machine

from chatdesk.providers.adapters import sms
from chatdesk.providers.base import (
    InboundMessage,
    MalformedPayload,
    Outbound,
    SendError,
    StatusUpdate,
    WebhookBatch,
)
from tests.support.fakes import FakeTwilio, Reply, closed_port_url, twilio_error

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
NOW = datetime(2025, 6, 8, 21, 0, 5, tzinfo=UTC)
ACCOUNT_SID = "AC2c6b6b8a55d0b1b57e1a0d9b8f3f3a71"
OUTBOUND_SID = "SM3a1f5d2c7e9b4a6f8d0c2e4b6a8f0d1c"


def form(name: str) -> dict[str, str]:
    """A fixture's body decoded the way a web framework hands the form over."""
    text = (FIXTURES / f"{name}.txt").read_text().strip()
    return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


# -- the fixtures themselves -------------------------------------------------------------

INBOUND_FIELDS = {
    "ToCountry",
    "ToState",
    "SmsMessageSid",
    "NumMedia",
    "ToCity",
    "FromZip",
    "SmsSid",
    "FromState",
    "SmsStatus",
    "FromCity",
    "Body",
    "FromCountry",
    "To",
    "ToZip",
    "NumSegments",
    "MessageSid",
    "AccountSid",
    "From",
    "ApiVersion",
}
SID = re.compile(r"^(AC|SM|MM|MG|ME)[0-9a-f]{32}$")


def test_every_fixture_has_an_expectation() -> None:
    names = sorted(p.stem for p in FIXTURES.glob("*.txt"))
    assert names == sorted([*EXPECTED_INBOUND, *EXPECTED_STATUS])


@pytest.mark.parametrize("name", ["inbound_sms", "inbound_mms"])
def test_inbound_fixtures_carry_twilios_fields(name: str) -> None:
    fields = form(name)
    assert set(fields) >= INBOUND_FIELDS
    assert fields["SmsStatus"] == "received"
    assert fields["ApiVersion"] == "2010-04-01"
    assert fields["MessageSid"] == fields["SmsSid"] == fields["SmsMessageSid"]
    for key in ("MessageSid", "AccountSid"):
        assert SID.match(fields[key]), key
    assert fields["From"].startswith("+") and fields["To"].startswith("+")


@pytest.mark.parametrize(
    "name", ["status_sent", "status_delivered", "status_undelivered_30003", "status_failed_21610"]
)
def test_status_fixtures_carry_twilios_fields(name: str) -> None:
    fields = form(name)
    assert {"MessageSid", "MessageStatus", "SmsSid", "SmsStatus", "AccountSid", "From", "To"} <= (
        set(fields)
    )
    assert fields["MessageStatus"] == fields["SmsStatus"]
    assert SID.match(fields["MessageSid"])
    assert ("ErrorCode" in fields) == (fields["MessageStatus"] in {"undelivered", "failed"})


# -- inbound -----------------------------------------------------------------------------

EXPECTED_INBOUND: dict[str, InboundMessage] = {
    "inbound_sms": InboundMessage(
        provider_message_id="SM1f0e8ae6ade43cb3c0ce4525424e404f",
        from_phone="+14155551234",
        timestamp=NOW,
        content_type="text",
        text="Hi! My order #4411 hasn't arrived & I'm worried.",
    ),
    "inbound_mms": InboundMessage(
        provider_message_id="MM5f4b1c2ad0e7b33d6e9a8a3f1c2b4d6e",
        from_phone="+14155551234",
        timestamp=NOW,
        content_type="image",
        text="Here is the label",
        media={
            "items": [
                {
                    "url": "https://api.twilio.com/2010-04-01/Accounts/"
                    f"{ACCOUNT_SID}/Messages/MM5f4b1c2ad0e7b33d6e9a8a3f1c2b4d6e/Media/"
                    "ME3d4a1e6f0b9c8d7e6f5a4b3c2d1e0f9a",
                    "content_type": "image/jpeg",
                }
            ]
        },
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_INBOUND))
def test_parse_inbound_replays_the_fixture(name: str) -> None:
    assert sms.parse_inbound(form(name)) == WebhookBatch(messages=[EXPECTED_INBOUND[name]])


def test_the_moment_it_arrives_stands_in_for_twilios_missing_timestamp() -> None:
    message = sms.parse_inbound(form("inbound_sms")).messages[0]
    assert message.timestamp == NOW
    assert message.timestamp.utcoffset() is not None


def mms(*media: tuple[str, str], body: str = "") -> dict[str, str]:
    fields = form("inbound_mms")
    for key in [k for k in fields if k.startswith(("MediaUrl", "MediaContentType"))]:
        del fields[key]
    fields["Body"] = body
    fields["NumMedia"] = str(len(media))
    for i, (url, mime) in enumerate(media):
        fields[f"MediaUrl{i}"] = url
        fields[f"MediaContentType{i}"] = mime
    return fields


@pytest.mark.parametrize(
    ("mime", "content_type"),
    [
        ("image/jpeg", "image"),
        ("image/gif", "image"),
        ("audio/amr", "audio"),
        ("video/mp4", "video"),
        ("application/pdf", "document"),
        ("text/vcard", "document"),
        ("", "document"),
    ],
)
def test_the_first_attachment_decides_the_content_type(mime: str, content_type: str) -> None:
    message = sms.parse_inbound(mms(("https://media.example/0", mime))).messages[0]
    assert message.content_type == content_type
    assert message.text == "[1 attachment]"
    assert message.media == {"items": [{"url": "https://media.example/0", "content_type": mime}]}


def test_several_attachments_without_a_body() -> None:
    message = sms.parse_inbound(
        mms(("https://media.example/0", "video/mp4"), ("https://media.example/1", "image/png"))
    ).messages[0]
    assert message.content_type == "video"
    assert message.text == "[2 attachments]"
    assert [item["url"] for item in message.media["items"]] == [
        "https://media.example/0",
        "https://media.example/1",
    ]


@pytest.mark.parametrize("num_media", ["", "abc", "-1", "1.5"])
def test_an_unreadable_num_media_means_text(num_media: str) -> None:
    fields = form("inbound_sms")
    fields["NumMedia"] = num_media
    message = sms.parse_inbound(fields).messages[0]
    assert (message.content_type, message.media) == ("text", {})


def test_num_media_without_urls_means_text() -> None:
    fields = form("inbound_sms")
    fields["NumMedia"] = "3"
    message = sms.parse_inbound(fields).messages[0]
    assert (message.content_type, message.text, message.media) == (
        "text",
        fields["Body"],
        {},
    )


def test_num_media_is_capped_at_twilios_ten() -> None:
    fields = mms(*[(f"https://media.example/{i}", "image/png") for i in range(12)])
    fields["NumMedia"] = "100000000"
    assert len(sms.parse_inbound(fields).messages[0].media["items"]) == sms.MAX_MEDIA == 10


def test_stop_arrives_as_a_text_message() -> None:
    fields = form("inbound_sms")
    fields["Body"] = " stop "
    message = sms.parse_inbound(fields).messages[0]
    assert message.content_type == "text"
    assert sms.keyword(message.text) in sms.OPT_OUT_WORDS


@pytest.mark.parametrize(
    ("body", "out", "in_", "ends"),
    [
        (" stop ", "STOP", "", False),
        ("Unstop", "", "UNSTOP", False),
        ("//END", "", "", True),
        ("stop it please", "", "", False),
    ],
)
def test_the_adapter_marks_opt_words_and_the_end_keyword(
    body: str, out: str, in_: str, ends: bool
) -> None:
    fields = form("inbound_sms")
    fields["Body"] = body
    message = sms.parse_inbound(fields, end_keyword="//end").messages[0]
    assert (message.opt_out_word, message.opt_in_word, message.ends_chat) == (out, in_, ends)


def test_media_carries_no_keyword() -> None:
    fields = mms(("https://media.example/1", "image/png"))
    fields["Body"] = "STOP"
    message = sms.parse_inbound(fields, end_keyword="STOP").messages[0]
    assert (message.opt_out_word, message.ends_chat) == ("", False)


SID_NAMES = ("MessageSid", "SmsMessageSid", "SmsSid")


@pytest.mark.parametrize(
    ("missing", "reason"),
    [
        (SID_NAMES, "missing form field MessageSid (or SmsMessageSid, SmsSid)"),
        (("From",), "missing form field From"),
        ((*SID_NAMES, "From"), "missing form field MessageSid (or SmsMessageSid, SmsSid), From"),
    ],
)
def test_inbound_without_sid_or_sender_is_malformed(missing: tuple[str, ...], reason: str) -> None:
    fields = form("inbound_sms")
    for key in missing:
        del fields[key]
    with pytest.raises(MalformedPayload) as caught:
        sms.parse_inbound(fields)
    assert str(caught.value) == reason


@pytest.mark.parametrize("kept", ["SmsMessageSid", "SmsSid"])
def test_twilios_older_names_for_the_id_are_read_when_message_sid_is_absent(kept: str) -> None:
    fields = form("inbound_sms")
    sid = fields["MessageSid"]
    for key in SID_NAMES:
        if key != kept:
            del fields[key]
    assert sms.parse_inbound(fields).messages[0].provider_message_id == sid

    status = form("status_delivered")
    sid = status["MessageSid"]
    for key in SID_NAMES:
        if key != kept:
            status.pop(key, None)
    status[kept] = sid
    del status["MessageStatus"]  # SmsStatus stands in
    [update] = sms.parse_status(status).statuses
    assert (update.provider_message_id, update.status) == (sid, "delivered")


def test_an_empty_form_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        sms.parse_inbound({})


# -- status callbacks --------------------------------------------------------------------

EXPECTED_STATUS: dict[str, StatusUpdate] = {
    "status_sent": StatusUpdate(OUTBOUND_SID, "sent", timestamp=NOW, reference="chatdesk-12"),
    "status_delivered": StatusUpdate(
        OUTBOUND_SID, "delivered", timestamp=NOW, reference="chatdesk-12"
    ),
    "status_undelivered_30003": StatusUpdate(
        OUTBOUND_SID,
        "failed",
        timestamp=NOW,
        error_code="30003",
        error_reason="The carrier did not deliver the message (undelivered, error 30003).",
        reference="chatdesk-12",
    ),
    "status_failed_21610": StatusUpdate(
        OUTBOUND_SID,
        "failed",
        timestamp=NOW,
        error_code="21610",
        error_reason="The contact has opted out (STOP).",
        reference="chatdesk-12",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_parse_status_replays_the_fixture(name: str) -> None:
    batch = sms.parse_status(form(name), reference="chatdesk-12")
    assert batch == WebhookBatch(statuses=[EXPECTED_STATUS[name]])


def test_the_reference_is_optional() -> None:
    assert sms.parse_status(form("status_sent")).statuses[0].reference == ""


@pytest.mark.parametrize(
    ("twilio", "ours"),
    [
        ("accepted", "queued"),
        ("scheduled", "queued"),
        ("queued", "queued"),
        ("sending", "queued"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("read", "read"),
        ("undelivered", "failed"),
        ("failed", "failed"),
        ("canceled", "failed"),
        ("Delivered", "delivered"),
    ],
)
def test_twilio_statuses_map_to_ours(twilio: str, ours: str) -> None:
    fields = form("status_sent")
    fields["MessageStatus"] = twilio
    update = sms.parse_status(fields, reference="chatdesk-3").statuses[0]
    assert (update.status, update.reference) == (ours, "chatdesk-3")
    assert bool(update.error_reason) == (ours == "failed")


def test_a_failure_without_an_error_code_still_says_why() -> None:
    fields = form("status_sent")
    fields["MessageStatus"] = "failed"
    update = sms.parse_status(fields).statuses[0]
    assert (update.error_code, update.error_reason) == (
        "",
        "The carrier did not deliver the message (failed).",
    )


def test_twilios_error_message_is_kept_when_sent() -> None:
    fields = form("status_undelivered_30003")
    fields["ErrorMessage"] = "Unreachable destination handset"
    assert sms.parse_status(fields).statuses[0].error_reason == "Unreachable destination handset"


@pytest.mark.parametrize("status", ["receiving", "received", "partially_delivered"])
def test_documented_statuses_that_move_nothing_are_ignored(status: str) -> None:
    fields = form("status_sent")
    fields["MessageStatus"] = status
    assert sms.parse_status(fields) == WebhookBatch()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"MessageSid": None, "SmsSid": None, "SmsMessageSid": None},
            "missing form field MessageSid (or SmsMessageSid, SmsSid)",
        ),
        (
            {"MessageStatus": None, "SmsStatus": None},
            "missing form field MessageStatus (or SmsStatus)",
        ),
        ({"MessageStatus": "", "SmsStatus": ""}, "missing form field MessageStatus (or SmsStatus)"),
        ({"MessageStatus": "exploded", "SmsStatus": None}, "unknown MessageStatus 'exploded'"),
    ],
)
def test_malformed_status_callbacks(change: dict[str, str | None], reason: str) -> None:
    fields = form("status_sent")
    for key, value in change.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    with pytest.raises(MalformedPayload) as caught:
        sms.parse_status(fields)
    assert str(caught.value) == reason
    assert not str(caught.value).endswith(".")  # the webhook adds its own full stop


# -- X-Twilio-Signature ------------------------------------------------------------------

# The worked example on Twilio's "Webhooks security" page (twilio.com/docs/usage/security).
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_TOKEN = "12345"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="

AUTH_TOKEN = "9f3b2c1d0e8a7b6c5d4e3f2a1b0c9d8e"
INBOUND_URL = "https://desk.example.com/webhooks/sms/3"
STATUS_URL = "https://desk.example.com/webhooks/sms/3/status?ref=chatdesk-12"


def twilio_signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Computed here from Twilio's description: the URL, then each POST field sorted by
    name as name+value, HMAC-SHA1 with the auth token, base64."""
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_twilios_documented_example() -> None:
    assert sms.signature_for(DOC_URL, DOC_PARAMS, DOC_TOKEN) == DOC_SIGNATURE
    assert sms.verify_signature(DOC_URL, DOC_PARAMS, DOC_SIGNATURE, DOC_TOKEN) is True


def test_twilios_helper_library_vector() -> None:
    # twilio-python's tests/unit/test_request_validator.py.
    params = {**DOC_PARAMS, "Caller": "+14158675309", "From": "+14158675309"}
    assert sms.signature_for(DOC_URL, params, DOC_TOKEN) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_a_url_with_the_default_port_verifies_either_way() -> None:
    # Twilio may sign with or without the port; its helper libraries accept both.
    with_port = DOC_URL.replace(".com", ".com:443")
    assert sms.verify_signature(with_port, DOC_PARAMS, DOC_SIGNATURE, DOC_TOKEN) is True
    # As twilio-python's validator, any port may be missing from what Twilio signed.
    other_port = DOC_URL.replace(".com", ".com:8443")
    assert sms.verify_signature(other_port, DOC_PARAMS, DOC_SIGNATURE, DOC_TOKEN) is True
    params = {**DOC_PARAMS, "Caller": "+14158675309", "From": "+14158675309"}
    signed_with_port = "kvajT1Ptam85bY51eRf/AJRuM3w="  # twilio-python's vector
    assert sms.verify_signature(DOC_URL, params, signed_with_port, DOC_TOKEN) is True
    http_url = DOC_URL.replace("https", "http")
    signed_with_80 = "0ZXoZLH/DfblKGATFgpif+LLRf4="  # twilio-python's vector
    assert sms.verify_signature(http_url, params, signed_with_80, DOC_TOKEN) is True


def test_a_different_host_scheme_or_query_does_not_verify() -> None:
    for url in (
        DOC_URL.replace("mycompany", "evil"),
        DOC_URL.replace("https", "http"),
        DOC_URL.replace("bar=2", "bar=3"),
    ):
        assert sms.verify_signature(url, DOC_PARAMS, DOC_SIGNATURE, DOC_TOKEN) is False, url


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("inbound_sms", INBOUND_URL),
        ("inbound_mms", INBOUND_URL),
        ("status_undelivered_30003", STATUS_URL),
        ("status_failed_21610", STATUS_URL),
    ],
)
def test_fixture_requests_signed_independently_verify(name: str, url: str) -> None:
    params = form(name)
    signature = twilio_signature(url, params)
    assert sms.signature_for(url, params, AUTH_TOKEN) == signature
    assert sms.verify_signature(url, params, signature, AUTH_TOKEN) is True
    assert sms.verify_signature(url, params, f" {signature}\n", AUTH_TOKEN) is True


@pytest.mark.parametrize("header", [None, "", "=", "not-a-signature", "A" * 27 + "="])
def test_a_missing_or_wrong_signature_fails(header: str | None) -> None:
    assert sms.verify_signature(INBOUND_URL, form("inbound_sms"), header, AUTH_TOKEN) is False


def test_a_truncated_signature_fails() -> None:
    params = form("inbound_sms")
    good = twilio_signature(INBOUND_URL, params)
    for cut in (1, 2, 10):
        assert sms.verify_signature(INBOUND_URL, params, good[:-cut], AUTH_TOKEN) is False


def test_a_signature_made_with_another_token_fails() -> None:
    params = form("inbound_sms")
    other = twilio_signature(INBOUND_URL, params, token="another-token")
    assert sms.verify_signature(INBOUND_URL, params, other, AUTH_TOKEN) is False


def test_no_auth_token_verifies_nothing() -> None:
    params = form("inbound_sms")
    assert not sms.verify_signature(
        INBOUND_URL, params, twilio_signature(INBOUND_URL, params, ""), ""
    )


def test_one_changed_character_anywhere_fails() -> None:
    params = form("inbound_sms")
    good = twilio_signature(INBOUND_URL, params)
    for key, value in params.items():
        for position in {0, len(value) // 2, len(value) - 1}:
            if not value:
                continue
            tampered = dict(params)
            flipped = chr(ord(value[position]) ^ 0x01)
            tampered[key] = value[:position] + flipped + value[position + 1 :]
            assert sms.verify_signature(INBOUND_URL, tampered, good, AUTH_TOKEN) is False, key
    assert not sms.verify_signature(INBOUND_URL, {**params, "Extra": "1"}, good, AUTH_TOKEN)
    dropped = {k: v for k, v in params.items() if k != "ToZip"}
    assert not sms.verify_signature(INBOUND_URL, dropped, good, AUTH_TOKEN)
    assert not sms.verify_signature(INBOUND_URL + "?ref=x", params, good, AUTH_TOKEN)


# -- sending to a fake Twilio ------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as http:
        yield http


def config_for(twilio: FakeTwilio, **overrides: str) -> sms.SmsConfig:
    fields = {
        "account_sid": twilio.account_sid,
        "auth_token": twilio.auth_token,
        "from_number": twilio.from_number,
        "api_url": twilio.api_url,
        **overrides,
    }
    return sms.SmsConfig(**fields)


CALLBACK = "https://desk.example.com/webhooks/sms/3/status?ref=chatdesk-12"
TEXT = Outbound(
    to_phone="+14155551234",
    text="Your parcel left the depot.",
    status_callback_url=CALLBACK,
    reference="chatdesk-12",
)


def test_send_posts_twilios_form(fake_twilio: FakeTwilio, client: httpx.Client) -> None:
    result = sms.send(client, config_for(fake_twilio), TEXT)
    request = fake_twilio.last
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    expected_auth = base64.b64encode(
        f"{fake_twilio.account_sid}:{fake_twilio.auth_token}".encode()
    ).decode()
    assert request.headers["Authorization"] == f"Basic {expected_auth}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "To": "+14155551234",
        "From": fake_twilio.from_number,
        "Body": "Your parcel left the depot.",
        "StatusCallback": CALLBACK,
    }
    assert result.provider_message_id == fake_twilio.issued[-1]
    assert re.fullmatch(r"SM[0-9a-f]{32}", result.provider_message_id)


def test_send_without_a_callback_sends_none(fake_twilio: FakeTwilio, client: httpx.Client) -> None:
    sms.send(client, config_for(fake_twilio), Outbound(to_phone="+14155551234", text="Hi"))
    assert "StatusCallback" not in fake_twilio.last.form


def test_a_trailing_slash_in_the_api_url_is_fine(
    fake_twilio: FakeTwilio, client: httpx.Client
) -> None:
    sms.send(client, config_for(fake_twilio, api_url=fake_twilio.api_url + "/"), TEXT)
    assert fake_twilio.last.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"


def send_error(twilio: FakeTwilio, client: httpx.Client, **overrides: str) -> SendError:
    with pytest.raises(SendError) as caught:
        sms.send(client, config_for(twilio, **overrides), TEXT)
    return caught.value


def test_a_server_error_is_retryable(fake_twilio: FakeTwilio, client: httpx.Client) -> None:
    fake_twilio.reply(500)
    error = send_error(fake_twilio, client)
    assert (error.retryable, error.code, error.reason) == (True, "20500", "Internal Server Error")
    assert error.retry_after is None


def test_a_gateway_page_is_retryable(fake_twilio: FakeTwilio, client: httpx.Client) -> None:
    fake_twilio.reply(503, "Service Unavailable")
    error = send_error(fake_twilio, client)
    assert (error.retryable, error.code, error.reason) == (True, "", "Service Unavailable")


def test_429_with_retry_after_is_retryable_after_that_long(
    fake_twilio: FakeTwilio, client: httpx.Client
) -> None:
    fake_twilio.queue(
        (429, twilio_error(20429, "Too Many Requests", status=429), {"Retry-After": "2"})
    )
    error = send_error(fake_twilio, client)
    assert (error.retryable, error.retry_after, error.code) == (True, 2.0, "20429")


def test_a_timeout_is_retryable(fake_twilio: FakeTwilio) -> None:
    fake_twilio.delay(2.0)
    started = time.monotonic()
    with httpx.Client(timeout=0.5) as slow, pytest.raises(SendError) as caught:
        sms.send(slow, config_for(fake_twilio), TEXT)
    assert time.monotonic() - started < 1.9
    assert caught.value.retryable is True
    assert caught.value.reason == "The SMS provider did not answer in time."


def test_a_refused_connection_is_retryable(client: httpx.Client) -> None:
    config = sms.SmsConfig(
        account_sid=ACCOUNT_SID, auth_token="t", from_number="+1", api_url=closed_port_url()
    )
    with pytest.raises(SendError) as caught:
        sms.send(client, config, TEXT)
    assert caught.value.retryable is True
    assert caught.value.reason == "Could not reach the SMS provider: ConnectError."


def test_an_opted_out_recipient_is_final(fake_twilio: FakeTwilio, client: httpx.Client) -> None:
    fake_twilio.reply(400, twilio_error(21610, "Attempt to send to unsubscribed recipient"))
    error = send_error(fake_twilio, client)
    assert error.retryable is False
    assert error.code == sms.OPTED_OUT_ERROR == "21610"
    assert error.reason == "Attempt to send to unsubscribed recipient"


def test_a_wrong_auth_token_is_final(fake_twilio: FakeTwilio, client: httpx.Client) -> None:
    error = send_error(fake_twilio, client, auth_token="wrong")
    assert (error.retryable, error.code, error.reason) == (False, "20003", "Authenticate")


def test_a_created_message_without_a_sid_is_final(
    fake_twilio: FakeTwilio, client: httpx.Client
) -> None:
    fake_twilio.reply(201, {"status": "queued", "to": "+14155551234"})
    error = send_error(fake_twilio, client)
    assert error.retryable is False
    assert error.reason == "The SMS provider accepted the message but returned no id."


@pytest.mark.parametrize("body", ["created", [], {"sid": None}, {"sid": ""}, {"sid": 7}])
def test_a_success_with_an_odd_body_is_final(
    fake_twilio: FakeTwilio, client: httpx.Client, body: Any
) -> None:
    fake_twilio.reply(201, body)
    assert send_error(fake_twilio, client).retryable is False


@pytest.mark.parametrize("body", ["", [], {"code": None}, {"message": ["x"]}])
def test_an_error_with_an_odd_body_still_raises_send_error(
    fake_twilio: FakeTwilio, client: httpx.Client, body: Any
) -> None:
    fake_twilio.queue(Reply(400, body), Reply(500, body))
    assert send_error(fake_twilio, client).retryable is False
    assert send_error(fake_twilio, client).retryable is True
