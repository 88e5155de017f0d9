"""The WhatsApp Cloud API adapter against Meta's documented payloads: every fixture in
``fixtures/whatsapp`` replayed through ``parse``, malformed bodies, the
X-Hub-Signature-256 check, and sending to a fake Graph API over real HTTP."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatdesk.providers.adapters import whatsapp
from chatdesk.providers.base import (
    InboundMessage,
    MalformedPayload,
    Outbound,
    OutboundTemplate,
    SendError,
    StatusUpdate,
    WebhookBatch,
    message_id_from_reference,
    reference_for,
)
from tests.support.fakes import FakeGraph, Reply, closed_port_url, graph_error

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"

SHEENA = "16505551234"
PABLO = "16315551181"
OUTBOUND_ID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBIzRjA0QkQ5RjcxNjE4NjU2QjcA"
# The interactive template message the button and list replies answer (their "context").
ANSWERED_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA"


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, tz=UTC)


T_MSG = datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)  # "1749416383"


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw(name))
    return data


def encode(data: Any) -> bytes:
    return json.dumps(data).encode()


def inbound(message_id: str, content_type: str, text: str, media: dict[str, Any]) -> InboundMessage:
    return InboundMessage(
        provider_message_id=message_id,
        from_phone=SHEENA,
        timestamp=T_MSG,
        content_type=content_type,
        text=text,
        contact_name="Sheena Nelson",
        media=media,
    )


CONTACT_CARD = payload("contacts")["entry"][0]["changes"][0]["value"]["messages"][0]["contacts"]
UNSUPPORTED_ERRORS = [
    {
        "code": 131051,
        "title": "Message type unknown",
        "message": "Message type unknown",
        "error_data": {"details": "Message type is currently not supported."},
    }
]

EXPECTED: dict[str, WebhookBatch] = {
    "text": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                "text",
                "Does it come in another color?",
                {},
            )
        ]
    ),
    "image": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUI0NEFBMkQ5QjlDNkI2OUM0NQA=",
                "image",
                "[Photo] The box arrived damaged",
                {
                    "id": "1003383421387256",
                    "mime_type": "image/jpeg",
                    "sha256": "RTRmtUiGQ3bWrWsDbgLHcu4tXC1aqtpzeHTf0TGb5qw=",
                },
            )
        ]
    ),
    "audio_voice": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUE3NzBDMjlFOURFQUI5OEQ1NwA=",
                "audio",
                "[Voice note]",
                {
                    "id": "1097521308715698",
                    "mime_type": "audio/ogg; codecs=opus",
                    "sha256": "T9PPD4kgTn14GItbYrO1TE7o1jJ3ysbTe9aINKPxFcU=",
                },
            )
        ]
    ),
    "video": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTQ4QUM1NjNDNjY3NzVCMjZBNAA=",
                "video",
                "[Video] This is how it rattles",
                {
                    "id": "1906826176752834",
                    "mime_type": "video/mp4",
                    "sha256": "CXSz8BX7Yt23oQeVpnafk8zb2m4aUmpcgbbq3y1EmM0=",
                },
            )
        ]
    ),
    "document": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTk4NzA5MEE1MzdBMjQ2RjM1NAA=",
                "document",
                "[Document] Lucky Shrub invoice",
                {
                    "id": "1278931520309185",
                    "mime_type": "application/pdf",
                    "sha256": "bzVgtCHfwWNlhDQYaJaoynrwhvfiQD3QvNGpfmp6YYQ=",
                    "filename": "lucky-shrub-invoice.pdf",
                },
            )
        ]
    ),
    "sticker": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTFBQjRBMEQ1NDdEQjdEQjRGMgA=",
                "sticker",
                "[Sticker]",
                {
                    "id": "1228471495150405",
                    "mime_type": "image/webp",
                    "sha256": "S4qrBK/Pd1cQVWg0RrmBQH3SO5fhJTjsQlihV9zI4AM=",
                },
            )
        ]
    ),
    "location": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTgxRkU0QjdCNjY0NzVBOEJDMAA=",
                "location",
                "[Location] Main Street Beach, 1 Hacker Way, Menlo Park, CA 94025 "
                "(37.483307, -122.148981)",
                {
                    "latitude": 37.483307,
                    "longitude": -122.148981,
                    "name": "Main Street Beach",
                    "address": "1 Hacker Way, Menlo Park, CA 94025",
                },
            )
        ]
    ),
    "contacts": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTJGOTg2NEY0QTBCRTVCNjc1NgA=",
                "contacts",
                "[Contact] Barbara J. Johnson +1 (940) 555-1234",
                {"contacts": CONTACT_CARD},
            )
        ]
    ),
    "interactive_button_reply": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTc2RkJEOUI1MEI1MUU2OUQ5QwA=",
                "interactive",
                "Cancel",
                {"reply_id": "cancel-button", "type": "button_reply", "reply_to": ANSWERED_ID},
            )
        ]
    ),
    "interactive_list_reply": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTBDNzJCMDBCRTMxQzFGNkE4QwA=",
                "interactive",
                "Express Shipping",
                {"reply_id": "priority_express", "type": "list_reply", "reply_to": ANSWERED_ID},
            )
        ]
    ),
    "button": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTU3NjVCQTM5NDdCQTBGMDY5OAA=",
                "button",
                "Track my order",
                {"payload": "TRACK_ORDER", "reply_to": ANSWERED_ID},
            )
        ]
    ),
    "reaction": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTJCNzZCRDYyOTVGNzIwNEUzMAA=",
                "reaction",
                "[Reaction] \N{THUMBS UP SIGN}",
                {"message_id": OUTBOUND_ID, "emoji": "\N{THUMBS UP SIGN}"},
            )
        ]
    ),
    "unsupported": WebhookBatch(
        messages=[
            inbound(
                "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUI1NjNFMzY2RUM4MTgzNTQ3QwA=",
                "unsupported",
                "[Unsupported message] Message type unknown: Message type is currently not "
                "supported.",
                {"errors": UNSUPPORTED_ERRORS},
            )
        ]
    ),
    "status_sent": WebhookBatch(
        statuses=[StatusUpdate(OUTBOUND_ID, "sent", timestamp=at(1749416390))]
    ),
    "status_delivered": WebhookBatch(
        statuses=[StatusUpdate(OUTBOUND_ID, "delivered", timestamp=at(1749416402))]
    ),
    "status_read": WebhookBatch(
        statuses=[StatusUpdate(OUTBOUND_ID, "read", timestamp=at(1749416460))]
    ),
    "status_failed": WebhookBatch(
        statuses=[
            StatusUpdate(
                "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA",
                "failed",
                timestamp=datetime(2025, 6, 18, 16, 22, 53, tzinfo=UTC),
                error_code="131047",
                error_reason=(
                    "Re-engagement message: Message failed to send because more than 24 "
                    "hours have passed since the customer last replied to this number."
                ),
            )
        ]
    ),
    "status_with_callback_data": WebhookBatch(
        statuses=[
            StatusUpdate(
                "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJBQjQ0QTZEMEYyMzhDNjc1NzEA",
                "sent",
                timestamp=at(1749416520),
                reference="chatdesk-4217",
            )
        ]
    ),
    "template_status_update": WebhookBatch(),
    "batch": WebhookBatch(
        messages=[
            InboundMessage(
                provider_message_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUIwMDAwMDAwMDAwMDAwMDAxAA==",
                from_phone=SHEENA,
                timestamp=at(1749416383),
                content_type="text",
                text="Hi, is anyone there?",
                contact_name="Sheena Nelson",
            ),
            InboundMessage(
                provider_message_id="wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQUIwMDAwMDAwMDAwMDAwMDAyAA==",
                from_phone=PABLO,
                timestamp=at(1749416390),
                content_type="text",
                text="Where is my parcel?",
                contact_name="Pablo Morales",
            ),
            InboundMessage(
                provider_message_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUIwMDAwMDAwMDAwMDAwMDAzAA==",
                from_phone=SHEENA,
                timestamp=at(1749416402),
                content_type="image",
                text="[Photo]",
                contact_name="Sheena Nelson",
                media={
                    "id": "2137894413362218",
                    "mime_type": "image/png",
                    "sha256": "k4mQ4Y7bJz6nE4ZpL0s0U7uWkq1oZ5yVtN5G2xY1c0E=",
                },
            ),
        ],
        statuses=[
            StatusUpdate(OUTBOUND_ID, "delivered", timestamp=at(1749416402)),
            StatusUpdate(OUTBOUND_ID, "read", timestamp=at(1749416460)),
        ],
    ),
}


# -- the fixtures themselves -------------------------------------------------------------


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json"))


def test_every_fixture_has_an_expectation() -> None:
    assert fixture_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_is_shaped_as_meta_documents_it(name: str) -> None:
    data = payload(name)
    assert data["object"] == "whatsapp_business_account"
    assert isinstance(data["entry"], list) and data["entry"]
    for entry in data["entry"]:
        assert entry["id"] == "102290129340398"
        for change in entry["changes"]:
            assert isinstance(change["field"], str)
            value = change["value"]
            if change["field"] != "messages":
                continue
            assert value["messaging_product"] == "whatsapp"
            assert set(value["metadata"]) == {"display_phone_number", "phone_number_id"}
            for contact in value.get("contacts", []):
                assert set(contact) == {"profile", "wa_id"}
            for message in value.get("messages", []):
                assert {"from", "id", "timestamp", "type"} <= set(message)
                assert message["id"].startswith("wamid.")
                assert message["timestamp"].isdigit()  # unix seconds, as a string
                assert message["type"] in message or message["type"] == "unsupported"
            for status in value.get("statuses", []):
                assert {"id", "status", "timestamp", "recipient_id"} <= set(status)
                assert status["status"] in {"sent", "delivered", "read", "failed"}


# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parse_replays_the_fixture(name: str) -> None:
    assert whatsapp.parse(raw(name)) == EXPECTED[name]


def test_the_echoed_reference_is_ours() -> None:
    reference = whatsapp.parse(raw("status_with_callback_data")).statuses[0].reference
    assert reference == reference_for(4217)
    assert message_id_from_reference(reference) == 4217


def test_timestamps_are_utc_from_unix_seconds() -> None:
    message = whatsapp.parse(raw("text")).messages[0]
    assert message.timestamp.tzinfo is UTC
    assert message.timestamp.timestamp() == 1749416383


def test_a_numeric_timestamp_is_accepted_too() -> None:
    data = payload("text")
    data["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = 1749416383
    assert whatsapp.parse(encode(data)).messages[0].timestamp == T_MSG


def test_a_removed_reaction_says_so() -> None:
    data = payload("reaction")
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["reaction"]["emoji"]
    parsed = whatsapp.parse(encode(data)).messages[0]
    assert parsed.content_type == "reaction"
    assert parsed.text == "[Reaction removed]"
    assert parsed.media == {"message_id": OUTBOUND_ID, "emoji": ""}


def test_audio_that_is_not_a_voice_note() -> None:
    data = payload("audio_voice")
    del data["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]["voice"]
    assert whatsapp.parse(encode(data)).messages[0].text == "[Audio]"


def test_a_document_without_caption_shows_its_filename() -> None:
    data = payload("document")
    del data["entry"][0]["changes"][0]["value"]["messages"][0]["document"]["caption"]
    assert whatsapp.parse(encode(data)).messages[0].text == "[Document] lucky-shrub-invoice.pdf"


def test_a_location_without_name_or_address_shows_the_coordinates() -> None:
    data = payload("location")
    location = data["entry"][0]["changes"][0]["value"]["messages"][0]["location"]
    del location["name"], location["address"]
    assert whatsapp.parse(encode(data)).messages[0].text == "[Location] 37.483307, -122.148981"


def test_an_unknown_message_type_is_kept_as_unsupported() -> None:
    data = payload("text")
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    message["type"] = "ephemeral"  # not a type Meta documents
    message["ephemeral"] = {"catalog_id": "1", "product_items": []}
    parsed = whatsapp.parse(encode(data)).messages[0]
    assert parsed.content_type == "unsupported"
    assert parsed.text == "[Unsupported message]"


def test_a_sender_missing_from_contacts_has_no_name() -> None:
    data = payload("text")
    del data["entry"][0]["changes"][0]["value"]["contacts"]
    assert whatsapp.parse(encode(data)).messages[0].contact_name == ""


def test_statuses_the_desk_does_not_show_are_skipped() -> None:
    data = payload("status_sent")
    data["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "deleted"
    assert whatsapp.parse(encode(data)) == WebhookBatch()


def test_a_failed_status_with_only_a_title() -> None:
    data = payload("status_failed")
    status = data["entry"][0]["changes"][0]["value"]["statuses"][0]
    status["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
    parsed = whatsapp.parse(encode(data)).statuses[0]
    assert (parsed.error_code, parsed.error_reason) == ("131026", "Message undeliverable")


def test_an_empty_entry_list_is_an_empty_batch() -> None:
    assert whatsapp.parse(b'{"object": "whatsapp_business_account", "entry": []}') == (
        WebhookBatch()
    )


def _text_with(**changes: Any) -> bytes:
    data = payload("text")
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    for key, value in changes.items():
        if value is None:
            del message[key]
        else:
            message[key] = value
    return encode(data)


def _value_with(**changes: Any) -> bytes:
    data = payload("text")
    data["entry"][0]["changes"][0]["value"].update(changes)
    return encode(data)


def _image_without_id() -> bytes:
    data = payload("image")
    del data["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"]
    return encode(data)


def _status_without(key: str) -> bytes:
    data = payload("status_sent")
    del data["entry"][0]["changes"][0]["value"]["statuses"][0][key]
    return encode(data)


MALFORMED: dict[str, tuple[bytes, str]] = {
    "not JSON": (b"<html>hello</html>", "the body is not JSON"),
    "not UTF-8": (b"\xff\xfe\x00{", "the body is not JSON"),
    "empty": (b"", "the body is not JSON"),
    "a JSON list": (b"[]", "'object' must be 'whatsapp_business_account'"),
    "wrong object": (
        b'{"object": "page", "entry": []}',
        "'object' must be 'whatsapp_business_account'",
    ),
    "no object": (b'{"entry": []}', "'object' must be 'whatsapp_business_account'"),
    "entry not a list": (
        b'{"object": "whatsapp_business_account", "entry": {"id": "1"}}',
        "'entry' must be a list",
    ),
    "no entry": (b'{"object": "whatsapp_business_account"}', "'entry' must be a list"),
    "entry without changes": (
        b'{"object": "whatsapp_business_account", "entry": [{"id": "1"}]}',
        "an entry has no 'changes'",
    ),
    "changes not a list": (
        b'{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": {}}]}',
        "'changes' must be a list",
    ),
    "value not an object": (
        b'{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": '
        b'[{"field": "messages", "value": []}]}]}',
        "a change's 'value' must be an object",
    ),
    "messages not a list": (
        _value_with(messages={"id": "wamid.x"}),
        "a change's value's 'messages' must be a list",
    ),
    "statuses not a list": (
        _value_with(statuses="sent"),
        "a change's value's 'statuses' must be a list",
    ),
}

# An item inside the envelope that cannot be read: set aside with the reason, the rest read.
UNREADABLE_ITEMS: dict[str, tuple[bytes, str]] = {
    "message without id": (_text_with(id=None), "a message has no 'id'"),
    "message without from": (_text_with(**{"from": None}), "a message has no 'from'"),
    "message without timestamp": (_text_with(timestamp=None), "a message has no 'timestamp'"),
    "message without type": (_text_with(type=None), "a message has no 'type'"),
    "bad timestamp": (_text_with(timestamp="yesterday"), "timestamp 'yesterday' is not unix"),
    "fractional timestamp": (_text_with(timestamp="1749416383.5"), "is not unix seconds"),
    "signed timestamp": (_text_with(timestamp="-1749416383"), "is not unix seconds"),
    "spaced timestamp": (_text_with(timestamp=" 1749416383"), "is not unix seconds"),
    "float timestamp": (_text_with(timestamp=1749416383.5), "is not unix seconds"),
    "boolean timestamp": (_text_with(timestamp=True), "is not unix seconds"),
    "huge timestamp": (_text_with(timestamp="9" * 30), "is not unix seconds"),
    "id not a string": (_text_with(id={"x": 1}), "a message's 'id' must be a non-empty string"),
    "empty id": (_text_with(id=""), "a message's 'id' must be a non-empty string"),
    "message not an object": (_value_with(messages=["wamid.x"]), "a message must be an object"),
    "status not an object": (_value_with(statuses=[7]), "a status must be an object"),
    "text without body": (_text_with(text={}), "a text message has no 'body'"),
    "media without id": (_image_without_id(), "the image message has no media id"),
    "status without id": (_status_without("id"), "a status has no 'id'"),
    "status without status": (_status_without("status"), "a status has no 'status'"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_bodies_raise_with_a_sentence(case: str) -> None:
    body, reason = MALFORMED[case]
    with pytest.raises(MalformedPayload) as caught:
        whatsapp.parse(body)
    sentence = str(caught.value)
    assert reason in sentence
    # The webhook writes "This is not a WhatsApp webhook payload: <sentence>."
    assert sentence == sentence.strip() and not sentence.endswith(".")


@pytest.mark.parametrize("case", sorted(UNREADABLE_ITEMS))
def test_an_unreadable_item_is_set_aside_with_a_sentence(case: str) -> None:
    body, reason = UNREADABLE_ITEMS[case]
    data = json.loads(body)
    value = data["entry"][0]["changes"][0]["value"]
    item = value["statuses"][0] if case.startswith("status") else value["messages"][0]
    # A readable message beside it is read all the same.
    beside = copy.deepcopy(payload("text")["entry"][0]["changes"][0]["value"]["messages"][0])
    beside["id"] = "wamid.BESIDE"
    value.setdefault("messages", []).append(beside)
    batch = whatsapp.parse(encode(data))
    assert [m.provider_message_id for m in batch.messages] == [
        m["id"] for m in value["messages"] if m is not item
    ]
    assert batch.statuses == []
    [unreadable] = batch.unreadable
    assert reason in unreadable.reason
    assert unreadable.payload == item
    expected_id = item.get("id") if isinstance(item, dict) else None
    assert unreadable.provider_message_id == (expected_id if isinstance(expected_id, str) else "")


def _mutations(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _mutations(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _mutations(child, (*path, index))


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(data)
    node = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copied


WRONG_VALUES: tuple[Any, ...] = (None, 7, True, "x", "", [], {}, [None], [7])


@pytest.mark.parametrize("name", fixture_names())
def test_any_wrongly_typed_field_is_malformed_or_harmless(name: str) -> None:
    """Whatever part of a documented payload has the wrong type, parse either copes or
    raises MalformedPayload (a 400), never another exception (a 500)."""
    data = payload(name)
    for path in _mutations(data):
        for value in WRONG_VALUES:
            body = encode(_replaced(data, path, value))
            try:
                result = whatsapp.parse(body)
            except MalformedPayload:
                continue
            except Exception as exc:  # pragma: no cover - the assertion reports it
                pytest.fail(f"{name}: {path} = {value!r} raised {exc!r}")
            assert isinstance(result, WebhookBatch)
            for message in result.messages:
                assert isinstance(message.text, str)
                assert isinstance(message.contact_name, str)
                assert message.timestamp.tzinfo is UTC


# -- signatures --------------------------------------------------------------------------

APP_SECRET = "6f1a8b0c9d2e4f5a7b3c1d0e9f8a7b6c"


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    """Computed here from Meta's description: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_for_is_metas_header_value() -> None:
    body = raw("text")
    assert whatsapp.signature_for(body, APP_SECRET) == meta_signature(body)
    assert whatsapp.SIGNATURE_HEADER == "X-Hub-Signature-256"


def test_a_valid_signature_verifies() -> None:
    body = raw("batch")
    assert whatsapp.verify_signature(body, meta_signature(body), APP_SECRET) is True


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha256", "sha1=" + "0" * 40, "sha256=" + "0" * 64, "garbage"],
)
def test_a_missing_or_wrong_signature_fails(header: str | None) -> None:
    assert whatsapp.verify_signature(raw("text"), header, APP_SECRET) is False


def test_a_truncated_signature_fails() -> None:
    body = raw("text")
    good = meta_signature(body)
    for cut in (1, 2, 32, 64):
        assert whatsapp.verify_signature(body, good[:-cut], APP_SECRET) is False
    assert whatsapp.verify_signature(body, good.removeprefix("sha256="), APP_SECRET) is False


def test_one_tampered_byte_of_the_body_fails() -> None:
    body = raw("status_failed")
    good = meta_signature(body)
    for position in (0, len(body) // 3, len(body) // 2, len(body) - 1):
        tampered = bytearray(body)
        tampered[position] ^= 0x01
        assert whatsapp.verify_signature(bytes(tampered), good, APP_SECRET) is False


def test_a_signature_made_with_another_secret_fails() -> None:
    body = raw("text")
    assert whatsapp.verify_signature(body, meta_signature(body, "other"), APP_SECRET) is False


def test_no_app_secret_verifies_nothing() -> None:
    body = raw("text")
    assert whatsapp.verify_signature(body, meta_signature(body, ""), "") is False


# -- the request body --------------------------------------------------------------------


def test_a_text_request_body_is_metas() -> None:
    body = whatsapp.request_body(Outbound(to_phone="+27821234567", text="Hello Carol"))
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "27821234567",
        "type": "text",
        "text": {"preview_url": False, "body": "Hello Carol"},
    }


def test_a_template_request_body_has_positional_body_parameters() -> None:
    outbound = Outbound(
        to_phone="+27821234567",
        template=OutboundTemplate(
            name="order_update", language="en_US", variables=["Carol", "#4411"]
        ),
        reference="chatdesk-42",
    )
    assert whatsapp.request_body(outbound) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "27821234567",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Carol"},
                        {"type": "text", "text": "#4411"},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": "chatdesk-42",
    }


def test_a_template_without_variables_has_no_components() -> None:
    outbound = Outbound(
        to_phone="+27821234567",
        template=OutboundTemplate(name="hello_world", language="en_US", variables=[]),
    )
    assert whatsapp.request_body(outbound)["template"] == {
        "name": "hello_world",
        "language": {"code": "en_US"},
    }


# -- sending to a fake Graph API ---------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as http:
        yield http


def config_for(graph: FakeGraph, **overrides: str) -> whatsapp.WhatsAppConfig:
    fields = {
        "phone_number_id": graph.phone_number_id,
        "access_token": graph.access_token,
        "graph_api_url": graph.graph_api_url,
        **overrides,
    }
    return whatsapp.WhatsAppConfig(**fields)


TEXT = Outbound(to_phone="+27821234567", text="Hello Carol", reference="chatdesk-7")


def test_send_text_posts_metas_request(fake_graph: FakeGraph, client: httpx.Client) -> None:
    result = whatsapp.send(client, config_for(fake_graph), TEXT)
    request = fake_graph.last
    assert request.method == "POST"
    assert request.path == "/v21.0/106540352242922/messages"
    assert request.headers["Authorization"] == f"Bearer {fake_graph.access_token}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "27821234567",
        "type": "text",
        "text": {"preview_url": False, "body": "Hello Carol"},
        "biz_opaque_callback_data": "chatdesk-7",
    }
    assert result.provider_message_id == fake_graph.issued[-1]
    assert result.provider_message_id.startswith("wamid.")


def test_send_without_reference_sends_no_callback_data(
    fake_graph: FakeGraph, client: httpx.Client
) -> None:
    whatsapp.send(client, config_for(fake_graph), Outbound(to_phone="+27821234567", text="Hi"))
    assert "biz_opaque_callback_data" not in fake_graph.last.json


def test_send_template(fake_graph: FakeGraph, client: httpx.Client) -> None:
    outbound = Outbound(
        to_phone="+27821234567",
        template=OutboundTemplate(name="order_update", language="en_US", variables=["Carol"]),
        reference="chatdesk-8",
    )
    result = whatsapp.send(client, config_for(fake_graph), outbound)
    sent = fake_graph.last.json
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Carol"}]}],
    }
    assert sent["biz_opaque_callback_data"] == "chatdesk-8"
    assert result.provider_message_id == fake_graph.issued[-1]


def test_each_send_gets_its_own_id(fake_graph: FakeGraph, client: httpx.Client) -> None:
    ids = {whatsapp.send(client, config_for(fake_graph), TEXT).provider_message_id for _ in "abc"}
    assert len(ids) == 3


def test_a_trailing_slash_in_the_graph_url_is_fine(
    fake_graph: FakeGraph, client: httpx.Client
) -> None:
    config = config_for(fake_graph, graph_api_url=fake_graph.graph_api_url + "/")
    whatsapp.send(client, config, TEXT)
    assert fake_graph.last.path == "/v21.0/106540352242922/messages"


def send_error(graph: FakeGraph, client: httpx.Client, **overrides: str) -> SendError:
    with pytest.raises(SendError) as caught:
        whatsapp.send(client, config_for(graph, **overrides), TEXT)
    return caught.value


def test_a_server_error_is_retryable(fake_graph: FakeGraph, client: httpx.Client) -> None:
    fake_graph.reply(500)
    error = send_error(fake_graph, client)
    assert error.retryable is True
    assert error.code == "2"
    assert "unexpected error" in error.reason
    assert error.retry_after is None


def test_a_bad_gateway_page_is_retryable(fake_graph: FakeGraph, client: httpx.Client) -> None:
    fake_graph.reply(502, "<html><body>Bad Gateway</body></html>")
    error = send_error(fake_graph, client)
    assert (error.retryable, error.code) == (True, "")
    assert "Bad Gateway" in error.reason


def test_429_with_retry_after_is_retryable_after_that_long(
    fake_graph: FakeGraph, client: httpx.Client
) -> None:
    fake_graph.queue(
        (429, graph_error("(#4) Application request limit reached", code=4), {"Retry-After": "2"})
    )
    error = send_error(fake_graph, client)
    assert error.retryable is True
    assert error.retry_after == 2.0
    assert error.code == "4"


@pytest.mark.parametrize("code", [130429, 131056])
def test_metas_throttling_codes_are_retryable(
    fake_graph: FakeGraph, client: httpx.Client, code: int
) -> None:
    fake_graph.reply(400, graph_error(f"(#{code}) Rate limit hit", code=code))
    error = send_error(fake_graph, client)
    assert (error.retryable, error.code) == (True, str(code))


def test_a_timeout_is_retryable(fake_graph: FakeGraph) -> None:
    fake_graph.delay(2.0)
    started = time.monotonic()
    with httpx.Client(timeout=0.5) as slow, pytest.raises(SendError) as caught:
        whatsapp.send(slow, config_for(fake_graph), TEXT)
    assert time.monotonic() - started < 1.9
    assert caught.value.retryable is True
    assert caught.value.reason == "WhatsApp did not answer in time."


def test_a_refused_connection_is_retryable(client: httpx.Client) -> None:
    config = whatsapp.WhatsAppConfig(
        phone_number_id="106540352242922",
        access_token="token",
        graph_api_url=closed_port_url() + "/v21.0",
    )
    with pytest.raises(SendError) as caught:
        whatsapp.send(client, config, TEXT)
    assert caught.value.retryable is True
    assert caught.value.reason == "Could not reach WhatsApp: ConnectError."


def test_re_engagement_required_is_final(fake_graph: FakeGraph, client: httpx.Client) -> None:
    details = (
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    )
    fake_graph.reply(
        400,
        graph_error(
            "(#131047) Re-engagement message", code=131047, details=details, subcode=2494010
        ),
    )
    error = send_error(fake_graph, client)
    assert error.retryable is False
    assert error.code == whatsapp.RE_ENGAGEMENT_REQUIRED == "131047"
    assert error.reason == f"(#131047) Re-engagement message: {details}"
    assert error.retry_after is None


def test_a_missing_template_is_final(fake_graph: FakeGraph, client: httpx.Client) -> None:
    fake_graph.reply(
        404,
        graph_error(
            "(#132001) Template name does not exist in the translation",
            code=132001,
            details="template name (order_updat) does not exist in en_US",
        ),
    )
    error = send_error(fake_graph, client)
    assert (error.retryable, error.code) == (False, "132001")


def test_a_wrong_token_is_final(fake_graph: FakeGraph, client: httpx.Client) -> None:
    error = send_error(fake_graph, client, access_token="expired")
    assert (error.retryable, error.code) == (False, "190")
    assert fake_graph.pending == 0


def test_a_success_without_an_id_is_final(fake_graph: FakeGraph, client: httpx.Client) -> None:
    fake_graph.reply(
        200,
        {"messaging_product": "whatsapp", "contacts": [{"input": "+27821234567"}], "messages": []},
    )
    error = send_error(fake_graph, client)
    assert error.retryable is False
    assert error.reason == "WhatsApp accepted the message but returned no id."


@pytest.mark.parametrize("body", ["OK", [], {"messages": "wamid.x"}, {"messages": [{}]}])
def test_a_success_with_an_odd_body_is_final(
    fake_graph: FakeGraph, client: httpx.Client, body: Any
) -> None:
    fake_graph.reply(200, body)
    assert send_error(fake_graph, client).retryable is False


@pytest.mark.parametrize("body", ["", [], {"error": "nope"}, {"error": None}, {"error": []}])
def test_an_error_with_an_odd_body_still_raises_send_error(
    fake_graph: FakeGraph, client: httpx.Client, body: Any
) -> None:
    fake_graph.queue(Reply(400, body), Reply(503, body))
    assert send_error(fake_graph, client).retryable is False
    assert send_error(fake_graph, client).retryable is True


def test_the_end_keyword_is_marked_and_opt_words_are_not() -> None:
    body = payload("text")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["text"]["body"] = " //End "
    (ended,) = whatsapp.parse(encode(body), end_keyword="//end").messages
    assert ended.ends_chat and ended.opt_out_word == ""
    message["text"]["body"] = "STOP"
    (stop,) = whatsapp.parse(encode(body), end_keyword="//end").messages
    assert (stop.ends_chat, stop.opt_out_word) == (False, "")
