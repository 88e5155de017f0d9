"""A webhook whose signature is missing, wrong, cut short or off by one byte is refused
with 403 and changes nothing, on every signed endpoint (tests/webhooks covers the
obvious cases; these are the near misses an attacker or a broken proxy produces)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from chatdesk.providers.adapters import sms, whatsapp
from tests.support.census import row_counts
from tests.support.fuzz import FUZZ
from tests.support.webhooks import (
    APP_SECRET,
    AUTH_TOKEN,
    post_whatsapp,
    sms_form,
    wa_payload,
    wa_text,
)

BODY = json.dumps(wa_payload(wa_text("pay R100 to 4111", "wamid.SIG"))).encode()
GOOD = whatsapp.signature_for(BODY, APP_SECRET)


def _flip(text: str, index: int) -> str:
    """The text with one character replaced by another of the same alphabet."""
    old = text[index]
    new = "0" if old != "0" else "1"
    if old.isalpha():
        new = "a" if old != "a" else "b"
    return text[:index] + new + text[index + 1 :]


def _assert_refused(response: Any, header: str, before: dict[str, int]) -> None:
    assert response.status_code == 403, response.content
    assert header in response.json()["detail"]
    assert row_counts() == before


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="missing"),
        pytest.param(whatsapp.signature_for(BODY, "another-app-secret"), id="other-secret"),
        pytest.param(GOOD.removeprefix("sha256="), id="no-prefix"),
        pytest.param("sha1=" + GOOD.removeprefix("sha256="), id="wrong-algorithm"),
        pytest.param(GOOD[:-1], id="last-digit-cut"),
        pytest.param(GOOD[: len("sha256=") + 32], id="half-digest"),
        pytest.param(GOOD + "0", id="one-digit-more"),
        pytest.param(_flip(GOOD, len("sha256=")), id="first-digit-flipped"),
        pytest.param(_flip(GOOD, len(GOOD) - 1), id="last-digit-flipped"),
        pytest.param(GOOD + "," + GOOD, id="repeated"),
    ],
)
def test_whatsapp_near_miss_signatures_are_refused(wa_channel, signature):
    before = row_counts()
    headers = {whatsapp.SIGNATURE_HEADER: signature} if signature is not None else {}
    response = Client().post(
        f"/webhooks/whatsapp/{wa_channel.pk}",
        BODY,
        content_type="application/json",
        headers=headers,
    )
    _assert_refused(response, "X-Hub-Signature-256", before)
    # The same body, rightly signed, is stored: the refusal was the signature's doing.
    assert post_whatsapp(Client(), wa_channel, None, raw=BODY).status_code == 200
    assert row_counts()["chats.Message"] == before["chats.Message"] + 1


@settings(FUZZ, max_examples=FUZZ.max_examples // 2)
@given(data=st.data())
def test_any_single_byte_changed_in_a_signed_whatsapp_body_is_refused(wa_channel, data):
    index = data.draw(st.integers(0, len(BODY) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != BODY[index]), label="byte")
    tampered = BODY[:index] + bytes([byte]) + BODY[index + 1 :]
    before = row_counts()
    response = post_whatsapp(Client(), wa_channel, None, raw=tampered, signature=GOOD)
    _assert_refused(response, "X-Hub-Signature-256", before)


@settings(FUZZ, max_examples=FUZZ.max_examples // 2)
@given(data=st.data())
def test_any_single_character_changed_in_a_whatsapp_signature_is_refused(wa_channel, data):
    index = data.draw(st.integers(0, len(GOOD) - 1), label="index")
    char = data.draw(st.characters(codec="ascii").filter(lambda c: c != GOOD[index]))
    signature = GOOD[:index] + char + GOOD[index + 1 :]
    before = row_counts()
    response = post_whatsapp(Client(), wa_channel, None, raw=BODY, signature=signature)
    _assert_refused(response, "X-Hub-Signature-256", before)


SMS_FORM = sms_form("pay R100", "SMsig")
STATUS_FORM = {"MessageSid": "SMsig", "MessageStatus": "delivered", "AccountSid": "AC1"}
ENDPOINTS = {
    "inbound": ("/webhooks/sms/{pk}", SMS_FORM),
    "status": ("/webhooks/sms/{pk}/status?ref=chatdesk-1", STATUS_FORM),
}


def _twilio_signature(path: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return sms.signature_for("http://testserver" + path, form, token)


def _defects(path: str, form: dict[str, str]) -> dict[str, tuple[str, dict[str, str], str | None]]:
    """Each defect as (path posted to, form posted, X-Twilio-Signature sent)."""
    good = _twilio_signature(path, form)
    first = sorted(form)[0]
    return {
        "missing": (path, form, None),
        "empty": (path, form, ""),
        "other-token": (path, form, _twilio_signature(path, form, "another-auth-token")),
        "last-character-cut": (path, form, good[:-1]),
        "padding-dropped": (path, form, good.rstrip("=")),
        "half": (path, form, good[: len(good) // 2]),
        "first-character-flipped": (path, form, _flip(good, 0)),
        "middle-character-flipped": (path, form, _flip(good, len(good) // 2)),
        "value-byte-tampered": (path, {**form, first: _flip(form[first], 0)}, good),
        "field-added": (path, {**form, "Extra": "1"}, good),
        "field-removed": (path, {k: v for k, v in form.items() if k != first}, good),
        "query-tampered": (path + ("&" if "?" in path else "?") + "x=1", form, good),
        "signed-for-another-host": (
            path,
            form,
            sms.signature_for("http://evil.example" + path, form, AUTH_TOKEN),
        ),
    }


DEFECT_NAMES = list(_defects("/p", {"A": "b"}))


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("defect", DEFECT_NAMES)
def test_twilio_near_miss_signatures_are_refused(sms_channel, endpoint, defect):
    template, form = ENDPOINTS[endpoint]
    path = template.format(pk=sms_channel.pk)
    posted_path, posted_form, signature = _defects(path, form)[defect]
    headers = {sms.SIGNATURE_HEADER: signature} if signature is not None else {}
    before = row_counts()
    response = Client().post(posted_path, posted_form, headers=headers)
    _assert_refused(response, "X-Twilio-Signature", before)
    # Signed right, the same request gets through.
    signed = {sms.SIGNATURE_HEADER: _twilio_signature(path, form)}
    assert Client().post(path, form, headers=signed).status_code == 200


@settings(FUZZ, max_examples=FUZZ.max_examples // 2)
@given(data=st.data())
def test_any_single_character_changed_in_a_twilio_signature_is_refused(sms_channel, data):
    path = f"/webhooks/sms/{sms_channel.pk}"
    good = _twilio_signature(path, SMS_FORM)
    index = data.draw(st.integers(0, len(good) - 1), label="index")
    char = data.draw(st.characters(codec="ascii").filter(lambda c: c != good[index]))
    signature = good[:index] + char + good[index + 1 :]
    before = row_counts()
    response = Client().post(path, SMS_FORM, headers={sms.SIGNATURE_HEADER: signature})
    _assert_refused(response, "X-Twilio-Signature", before)
