"""Property-based fuzzing of the provider webhooks, validly signed, against the real views
and database: whatever Meta or a Twilio-compatible provider sends, the answer is 200 or a
400 with a sentence, never a server error; a 400 writes nothing at all, and a 200 stores
every new message exactly once."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from chatdesk.chats.models import Direction, Message
from chatdesk.chats.phones import to_e164
from chatdesk.core.errors import BadInput
from chatdesk.providers.adapters import sms, whatsapp
from chatdesk.providers.models import Channel, ProviderEvent
from chatdesk.webhooks.views import MAX_PROVIDER_ID
from tests.support.census import changed, row_counts
from tests.support.fuzz import FUZZ
from tests.support.webhooks import APP_SECRET, AUTH_TOKEN, PHONE_NUMBER_ID

# --- values -------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",  # a lone surrogate: valid JSON escape, not storable UTF-8
    "x\udfffy",
    "\u202eevil.exe",
    "😀" * 300,
    "<script>alert(1)</script>",
    "'; DROP TABLE chats_message; --",
    "null",
    "STOP",
    "x" * 70_000,
]
odd_text = st.one_of(st.text(max_size=300), st.sampled_from(NASTY))
# Text a provider could really send: anything but NUL and lone surrogates, which the desk
# drops or replaces (checked below with ``storable``).
plain_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
ident = st.one_of(
    st.from_regex(r"wamid\.[A-Za-z0-9=_-]{1,40}", fullmatch=True),
    st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=60).filter(
        lambda s: s.strip() != ""
    ),
    st.sampled_from(["wamid.SAME", "wamid.OTHER"]),  # repeats within and across payloads
)
PHONES = ["27821234567", "14155550123", "447700900123", "5511987654321", "919876543210"]
# Each number's business-scoped user id, as Meta keeps one per user: a user with a username
# may send it with no number at all, and a message may carry either or both.
BSUID_OF = {
    "27821234567": "ZA.1502576394655843",
    "14155550123": "US.13491208655302741918",
    "447700900123": "GB.ENT.11815799212886844830",
    "5511987654321": "BR.4455667788",
    "919876543210": "IN.1410018717833190",
}
PERSON_OF = {user_id: phone for phone, user_id in BSUID_OF.items()}
unix = st.integers(0, 4_102_444_800)
timestamp = st.one_of(unix.map(str), unix)
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    odd_text,
)
any_json = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def storable(text: str) -> str:
    """What the desk keeps of a provider's text: NUL removed, lone surrogates replaced."""
    return re.sub("[\ud800-\udfff]", "\ufffd", text.replace("\x00", ""))


# --- WhatsApp payloads, structurally valid ------------------------------------------

MEDIA = ("image", "audio", "video", "document", "sticker")


@st.composite
def wa_message(draw: Any) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["text", *MEDIA, "location", "contacts", "interactive", "button", "reaction", "odd"]
        )
    )
    message: dict[str, Any] = {"id": draw(ident), "timestamp": draw(timestamp)}
    sender, phone = (
        draw(st.sampled_from(["phone", "user id", "both"])),
        draw(st.sampled_from(PHONES)),
    )
    if sender != "user id":
        message["from"] = phone
    if sender != "phone":
        message["from_user_id"] = BSUID_OF[phone]
    if kind == "text":
        message["text"] = {"body": draw(odd_text)}
    elif kind in MEDIA:
        body = {"id": draw(ident), "mime_type": draw(odd_text)}
        body.update(
            draw(
                st.fixed_dictionaries(
                    {}, optional={"caption": odd_text, "filename": odd_text, "voice": st.booleans()}
                )
            )
        )
        message[kind] = body
    elif kind == "location":
        message[kind] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "latitude": st.floats(-90, 90),
                    "longitude": st.floats(-180, 180),
                    "name": odd_text,
                    "address": odd_text,
                },
            )
        )
    elif kind == "contacts":
        message[kind] = draw(st.lists(any_json, max_size=3))
    elif kind == "interactive":
        reply = draw(st.sampled_from(["button_reply", "list_reply", "nfm_reply"]))
        message[kind] = {"type": reply, reply: {"id": draw(odd_text), "title": draw(odd_text)}}
    elif kind == "button":
        message[kind] = {"text": draw(odd_text), "payload": draw(odd_text)}
    elif kind == "reaction":
        message[kind] = {"message_id": draw(ident), "emoji": draw(odd_text)}
    else:
        # (System notices join a chat the contact already has: tests/webhooks covers them.)
        kind = draw(
            st.sampled_from(["unsupported", "order", "ephemeral"])
            | ident.filter(lambda k: k != "system")
        )
        message["errors"] = draw(st.lists(any_json, max_size=2))
    message["type"] = kind
    return message


wa_status = st.fixed_dictionaries(
    {
        "id": ident,
        "status": st.sampled_from(["sent", "delivered", "read", "failed", "deleted", "warning"]),
        "recipient_id": st.sampled_from(PHONES),
    },
    optional={
        "timestamp": timestamp,
        "errors": st.lists(any_json, max_size=2),
        "biz_opaque_callback_data": st.one_of(
            odd_text,
            st.integers(0, 10**30).map(lambda n: f"chatdesk-{n}"),
            st.sampled_from(["chatdesk-", "chatdesk-²", "chatdesk--1", "chatdesk-1"]),
        ),
        "conversation": any_json,
        "pricing": any_json,
    },
)


@st.composite
def wa_value(draw: Any) -> dict[str, Any]:
    messages = draw(st.lists(wa_message(), max_size=4))
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
    }
    senders = sorted({(m.get("from", ""), m.get("from_user_id", "")) for m in messages})
    if senders or draw(st.booleans()):
        value["contacts"] = [
            {
                "profile": {"name": draw(odd_text), "username": draw(odd_text)},
                **({"wa_id": phone} if phone else {}),
                **({"user_id": user_id} if user_id else {}),
            }
            for phone, user_id in senders
        ]
    if messages or draw(st.booleans()):
        value["messages"] = messages
    statuses = draw(st.lists(wa_status, max_size=4))
    if statuses or draw(st.booleans()):
        value["statuses"] = statuses
    return value


template_change = st.fixed_dictionaries(
    {
        "field": st.just("message_template_status_update"),
        "value": st.fixed_dictionaries(
            {
                "event": st.sampled_from(["APPROVED", "REJECTED", "PAUSED", "ODD"]),
                "message_template_id": st.integers(0, 2**63) | odd_text,
                "message_template_name": odd_text,
                "message_template_language": odd_text,
                "reason": odd_text | st.none(),
            }
        ),
    }
)
wa_change = st.one_of(
    st.fixed_dictionaries({"field": st.just("messages"), "value": wa_value()}),
    st.fixed_dictionaries({"value": wa_value()}),  # "field" left out: messages
    template_change,
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(["account_update", "security"]),
            "value": st.dictionaries(st.text(max_size=5), any_json, max_size=3),
        }
    ),
)
wa_payload = st.fixed_dictionaries(
    {
        "object": st.just("whatsapp_business_account"),
        "entry": st.lists(
            st.fixed_dictionaries({"id": ident, "changes": st.lists(wa_change, max_size=3)}),
            max_size=4,
        ),
    }
)


def inbound_messages(payload: Any) -> list[dict[str, Any]]:
    """The messages of the payload's message changes, as Meta's documentation nests them."""
    found: list[dict[str, Any]] = []
    for entry in payload["entry"]:
        for change in entry["changes"]:
            if change.get("field", "messages") == "messages":
                found.extend(change["value"].get("messages") or [])
    return found


# --- posting and checking -----------------------------------------------------------


def post_signed_whatsapp(channel: Channel, body: bytes) -> Any:
    return Client().post(
        f"/webhooks/whatsapp/{channel.pk}",
        body,
        content_type="application/json",
        headers={whatsapp.SIGNATURE_HEADER: whatsapp.signature_for(body, APP_SECRET)},
    )


def _inbound_ids(channel: Channel) -> set[str | None]:
    rows = Message.objects.filter(channel=channel, direction=Direction.IN)
    return set(rows.values_list("provider_message_id", flat=True))


def assert_refused_cleanly(response: Any, before: dict[str, int]) -> None:
    """A 400 names the problem in a sentence and leaves every table as it was."""
    assert response.status_code == 400, response.content[:500]
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.strip().endswith(".") and len(detail) > 10
    assert changed(before, row_counts()) == {}


def assert_stored_once(
    channel: Channel, messages: list[dict[str, Any]], known: set[str | None], answer: dict[str, Any]
) -> None:
    """Every message of the payload is stored exactly once; the new ones are answered as
    stored, the repeats (earlier payloads, or twice in this one) as duplicates."""
    ids = [storable(str(m["id"])) for m in messages]
    new = {i for i in ids if i not in known}
    assert answer["stored"] == len(new)
    assert answer["duplicates"] == len(ids) - len(new)
    rows = Message.objects.filter(channel=channel, direction=Direction.IN)
    for message_id in set(ids):
        assert rows.filter(provider_message_id=message_id).count() == 1, message_id
    # The first message with an id is the one kept: where it is a text, its body is stored
    # (a later message reusing the id, of whatever type, is a duplicate).
    first: dict[str | None, dict[str, Any]] = {}
    for message, message_id in zip(messages, ids, strict=True):
        if message_id in new:
            first.setdefault(message_id, message)
    for kept_id, kept in first.items():
        stored = rows.select_related("chat__contact").get(provider_message_id=kept_id)
        if kept["type"] == "text":
            assert stored.text == storable(kept["text"]["body"])
        # The chat is the person's who wrote, known by their number or their user id (two
        # contacts of one person stay apart while both chat, so either may hold it).
        contact = stored.chat.contact
        number = kept.get("from") or PERSON_OF[kept["from_user_id"]]
        assert contact.phone == "+" + number or contact.provider_user_id == BSUID_OF[number]


# --- WhatsApp properties ------------------------------------------------------------


@FUZZ
@given(payload=wa_payload)
def test_odd_but_wellformed_whatsapp_payloads_are_stored_once(wa_channel, payload):
    known = _inbound_ids(wa_channel)
    before = row_counts()
    response = post_signed_whatsapp(wa_channel, json.dumps(payload).encode())
    assert response.status_code == 200, response.content[:500]
    messages = inbound_messages(payload)
    assert_stored_once(wa_channel, messages, known, response.json())
    grown = row_counts()["chats.Message"] - before["chats.Message"]
    assert grown >= response.json()["stored"]  # replies queued by routing may add more


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


@st.composite
def mutated_wa_payload(draw: Any) -> Any:
    """A valid payload with a few keys dropped, or values swapped for anything JSON."""
    payload = draw(wa_payload)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(payload)))
        if not path:
            payload = draw(any_json)
            continue
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(any_json)
        payload_paths = _paths(payload)
        if not payload_paths:
            break
    return payload


def _check_any_answer(
    channel: Channel, body: bytes, before: dict[str, int], known: set[str | None]
) -> None:
    response = post_signed_whatsapp(channel, body)
    assert response.status_code in {200, 400}, response.content[:500]
    if response.status_code == 400:
        assert_refused_cleanly(response, before)
        return
    answer = response.json()
    new = _inbound_ids(channel) - known
    assert answer["stored"] == len(new)
    assert row_counts()["chats.Message"] - before["chats.Message"] >= len(new)


@FUZZ
@given(payload=mutated_wa_payload())
def test_broken_whatsapp_payloads_get_200_or_400_and_a_400_writes_nothing(wa_channel, payload):
    known = _inbound_ids(wa_channel)
    before = row_counts()
    _check_any_answer(wa_channel, json.dumps(payload).encode(), before, known)


@FUZZ
@given(
    body=st.one_of(
        any_json.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=2000),
        st.sampled_from(
            [
                b"",
                b"[" * 100_000,
                b'{"object": "whatsapp_business_account", "entry": [' + b"[" * 50_000,
                b'{"object": "whatsapp_business_account", "entry": NaN}',
                b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": '
                b'{"messages": [{"from": "27821234567", "id": "wamid.INF", "timestamp": "1", '
                b'"type": "location", "location": {"latitude": Infinity, '
                b'"longitude": 1e999}}]}}]}]}',
                b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": '
                b'{"messages": [{"from": "1", "id": "wamid.SHORT", "timestamp": "1", '
                b'"type": "text", "text": {"body": "hi"}}]}}]}]}',
                b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": '
                b'{"messages": [{"from": "27821234567", "id": "' + b"w" * 500 + b'", '
                b'"timestamp": "1", "type": "text", "text": {"body": "hi"}}]}}]}]}',
                "\ufeff{}".encode(),
                b'{"object": "whatsapp_business_account", "entry": [], "entry": 1}',
            ]
        ),
    )
)
def test_any_signed_body_gets_200_or_400_and_a_400_writes_nothing(wa_channel, body):
    known = _inbound_ids(wa_channel)
    before = row_counts()
    _check_any_answer(wa_channel, body, before, known)


# --- Twilio-compatible SMS ----------------------------------------------------------

SMS_PHONES = ["+27821234567", "+14155550123", "whatsapp:+447700900123", "27821234567"]
sms_value = st.one_of(
    st.text(max_size=200),
    st.sampled_from([n for n in NASTY if "\ud800" not in n and "\udfff" not in n]),
)


def _is_phone(text: str) -> bool:
    try:
        to_e164(text)
    except BadInput:
        return False
    return True


def post_signed_form(path: str, body: bytes) -> Any:
    """Post a urlencoded body signed over the fields as the app will read them."""
    form = QueryDict(body)
    fields = {key: form.get(key, "") for key in form}
    signature = sms.signature_for("http://testserver" + path, fields, AUTH_TOKEN)
    return Client().post(
        path,
        body,
        content_type="application/x-www-form-urlencoded",
        headers={sms.SIGNATURE_HEADER: signature},
    )


inbound_form = st.fixed_dictionaries(
    {},
    optional={
        "MessageSid": st.one_of(ident, st.just("SM" + "1" * 32), sms_value),
        "From": st.one_of(st.sampled_from(SMS_PHONES), sms_value),
        "To": st.just("+14155550100"),
        "Body": sms_value,
        "NumMedia": st.one_of(st.integers(0, 20).map(str), sms_value),
        "MediaUrl0": sms_value,
        "MediaContentType0": sms_value,
        "MediaUrl1": sms_value,
        "AccountSid": sms_value,
        "Unexpected": sms_value,
    },
)


@FUZZ
@given(form=inbound_form)
def test_odd_sms_forms_get_200_or_400_and_store_once(sms_channel, form):
    path = f"/webhooks/sms/{sms_channel.pk}"
    known = _inbound_ids(sms_channel)
    before = row_counts()
    response = post_signed_form(path, urlencode(form).encode())
    assert response.status_code in {200, 400}, response.content[:500]
    if response.status_code == 400:
        assert_refused_cleanly(response, before)
        return
    sid = storable(form["MessageSid"])
    rows = Message.objects.filter(channel=sms_channel, direction=Direction.IN)
    if len(sid) > MAX_PROVIDER_ID or not _is_phone(storable(form["From"])):
        # Twilio's envelope, but a message the desk cannot store: kept for the admins.
        assert set(changed(before, row_counts())) <= {"providers.ProviderEvent"}
        kept = ProviderEvent.objects.filter(channel=sms_channel, provider_message_id=sid[:255])
        assert kept.exists()
        # Stored only if an earlier example stored a readable message with this id.
        assert rows.filter(provider_message_id=sid).exists() == (sid in known)
        return
    assert rows.filter(provider_message_id=sid).count() == 1
    assert _inbound_ids(sms_channel) - known == ({sid} if sid not in known else set())
    if sid not in known:
        stored = rows.get(provider_message_id=sid)
        if storable(form.get("Body", "")):  # (a body of NUL characters alone is empty)
            assert stored.text == storable(form["Body"])


@FUZZ
@given(
    form=st.fixed_dictionaries(
        {},
        optional={
            "MessageSid": st.one_of(ident, sms_value),
            "MessageStatus": st.one_of(
                st.sampled_from(list(sms.STATUS_MAP) + sorted(sms.IGNORED_STATUSES)), sms_value
            ),
            "ErrorCode": st.one_of(st.sampled_from(["21610", "30003"]), sms_value),
            "ErrorMessage": sms_value,
        },
    ),
    ref=st.one_of(
        st.none(),
        sms_value,
        st.integers(0, 10**30).map(lambda n: f"chatdesk-{n}"),
        st.sampled_from(["chatdesk-²", "chatdesk-٣", "chatdesk-1"]),
    ),
)
def test_odd_sms_status_callbacks_get_200_or_400_and_a_400_writes_nothing(sms_channel, form, ref):
    path = f"/webhooks/sms/{sms_channel.pk}/status"
    if ref is not None:
        path += "?" + urlencode({"ref": ref})
    before = row_counts()
    response = post_signed_form(path, urlencode(form).encode())
    assert response.status_code in {200, 400}, response.content[:500]
    if response.status_code == 400:
        assert_refused_cleanly(response, before)
    else:
        # No outbound message exists, so a status has nothing to move.
        assert response.json()["statuses"] == 0
        sid = storable(form["MessageSid"])
        ignored = storable(form["MessageStatus"]).strip().lower() in sms.IGNORED_STATUSES
        if len(sid) > MAX_PROVIDER_ID and not ignored:  # no provider's id: kept for the admins
            assert response.json()["kept"] == 1
            assert set(changed(before, row_counts())) <= {"providers.ProviderEvent"}
        else:
            assert response.json()["kept"] == 0
            assert changed(before, row_counts()) == {}


@settings(FUZZ, max_examples=FUZZ.max_examples // 2)
@given(body=st.binary(max_size=1000))
def test_any_signed_form_body_gets_200_or_400(sms_channel, body):
    for path in (f"/webhooks/sms/{sms_channel.pk}", f"/webhooks/sms/{sms_channel.pk}/status"):
        known = _inbound_ids(sms_channel)
        before = row_counts()
        response = post_signed_form(path, body)
        assert response.status_code in {200, 400}, response.content[:500]
        if response.status_code == 400:
            assert_refused_cleanly(response, before)
        else:
            assert len(_inbound_ids(sms_channel) - known) <= 1
