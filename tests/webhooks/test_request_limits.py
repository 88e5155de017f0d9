"""Requests over the desk's size limits get a sentence, as JSON for providers and API
clients, and nothing is stored (README, "Limits")."""

from __future__ import annotations

import json

from django.conf import settings
from django.test import Client

from chatdesk.chats.models import Message
from tests.support.census import changed, row_counts
from tests.support.webhooks import post_twilio, post_whatsapp, sms_form, wa_payload, wa_text


def test_a_webhook_body_over_the_limit_gets_413_with_a_sentence(wa_channel):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    padding = "x" * (limit + 1)
    payload = wa_payload(wa_text(padding, "wamid.BIG"))
    before = row_counts()
    response = post_whatsapp(Client(), wa_channel, payload)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": f"The request body is larger than the desk accepts ({limit // 1024:,} KiB)."
    }
    assert changed(before, row_counts()) == {}


def test_a_webhook_just_under_the_limit_is_stored(wa_channel):
    payload = wa_payload(wa_text("", "wamid.LARGE"))
    room = settings.DATA_UPLOAD_MAX_MEMORY_SIZE - len(json.dumps(payload).encode()) - 10
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "y" * room
    response = post_whatsapp(Client(), wa_channel, payload)
    assert response.status_code == 200, response.content[:300]
    assert len(Message.objects.get().text) == room


def test_a_form_with_too_many_fields_gets_400_with_a_sentence(sms_channel):
    form = sms_form("hello", "SM" + "1" * 32)
    for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS):
        form[f"Extra{n}"] = "1"
    before = row_counts()
    response = post_twilio(Client(), f"/webhooks/sms/{sms_channel.pk}", form)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The form has more fields than the desk accepts "
        f"({settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,})."
    }
    assert changed(before, row_counts()) == {}


def test_the_api_answers_an_oversized_body_in_json_and_a_page_in_words(ada, api_as):
    big = "z" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = api_as(ada).post("/departments", {"name": big})
    assert response.status_code == 413
    assert "larger than the desk accepts" in response.json()["detail"]

    client = Client()
    client.force_login(ada)
    page = client.post("/login/", {"username": big})
    assert page.status_code == 413
    assert page["Content-Type"].startswith("text/html")
    assert b"larger than the desk accepts" in page.content
