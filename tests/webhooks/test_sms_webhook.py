"""The Twilio-compatible SMS webhooks: signature over the URL, inbound, status, opt-out."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from chatdesk.chats.models import Chat, ChatEvent, ContactOptOut, DeliveryStatus, Direction, Message
from chatdesk.core import clock
from chatdesk.providers.adapters import sms
from tests.support.webhooks import AUTH_TOKEN, post_twilio, sent_message, sms_form


def test_inbound_sms_starts_a_chat_and_answers_empty_twiml(sms_channel):
    response = post_twilio(Client(), f"/webhooks/sms/{sms_channel.pk}", sms_form("Hi there", "SM1"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in response.content
    message = Message.objects.get()
    assert (message.text, message.provider_message_id, message.chat.contact.phone) == (
        "Hi there",
        "SM1",
        "+27821234567",
    )


def test_retry_stores_once(sms_channel):
    form = sms_form("again", "SM2")
    for _ in range(3):
        assert post_twilio(Client(), f"/webhooks/sms/{sms_channel.pk}", form).status_code == 200
    assert Message.objects.count() == 1


def test_wrong_signature_or_token_is_403_and_stores_nothing(sms_channel):
    path = f"/webhooks/sms/{sms_channel.pk}"
    form = sms_form("x", "SM3")
    assert post_twilio(Client(), path, form, token="wrong").status_code == 403
    assert Client().post(path, form).status_code == 403  # no header at all
    signed = sms.signature_for("http://testserver" + path, form, AUTH_TOKEN)
    tampered = {**form, "Body": "y"}
    response = Client().post(path, tampered, headers={sms.SIGNATURE_HEADER: signed})
    assert response.status_code == 403
    assert Message.objects.count() == 0


@override_settings(PUBLIC_URL="https://desk.example.com")
def test_signature_is_checked_against_the_public_url(sms_channel):
    path = f"/webhooks/sms/{sms_channel.pk}"
    form = sms_form("via proxy", "SM4")
    assert post_twilio(Client(), path, form).status_code == 403  # signed for testserver
    ok = post_twilio(Client(), path, form, base="https://desk.example.com")
    assert ok.status_code == 200
    assert Message.objects.count() == 1


def test_missing_fields_are_400(sms_channel):
    response = post_twilio(Client(), f"/webhooks/sms/{sms_channel.pk}", {"Body": "no sid"})
    assert response.status_code == 400
    assert "MessageSid" in response.json()["detail"]
    assert Message.objects.count() == 0


def test_unknown_channel_is_404(db):
    assert Client().post("/webhooks/sms/4242", {}).status_code == 404
    assert Client().post("/webhooks/sms/4242/status", {}).status_code == 404


@pytest.mark.parametrize("word", ["STOP", "stop", " Unsubscribe ", "QUIT"])
def test_stop_words_opt_out_and_start_opts_back_in(sms_channel, word):
    path = f"/webhooks/sms/{sms_channel.pk}"
    post_twilio(Client(), path, sms_form(word, "SM-stop"))
    chat = Chat.objects.get()
    assert ContactOptOut.objects.filter(contact=chat.contact, channel=sms_channel).exists()
    assert ChatEvent.objects.filter(chat=chat, kind="opted_out").exists()
    post_twilio(Client(), path, sms_form("START", "SM-start"))
    assert not ContactOptOut.objects.exists()
    assert ChatEvent.objects.filter(chat=chat, kind="opted_in").exists()


def test_stop_inside_a_sentence_is_just_a_message(sms_channel):
    post_twilio(Client(), f"/webhooks/sms/{sms_channel.pk}", sms_form("please stop calling", "SM5"))
    assert not ContactOptOut.objects.exists()


def test_end_keyword_closes_the_chat_by_the_contact(sms_channel):
    path = f"/webhooks/sms/{sms_channel.pk}"
    post_twilio(Client(), path, sms_form("Thanks!", "SM6"))
    post_twilio(Client(), path, sms_form("//END", "SM7"))
    chat = Chat.objects.get()
    assert (chat.status, chat.closed_by) == ("closed", "contact")
    assert chat.closed_at is not None
    # The next message starts a new chat.
    post_twilio(Client(), path, sms_form("one more thing", "SM8"))
    assert Chat.objects.filter(status="open").count() == 1
    assert Chat.objects.count() == 2


def test_status_callback_moves_forward_with_reference_and_errors(sms_channel, carol):
    out = sent_message(sms_channel, carol, "SMout")
    path = f"/webhooks/sms/{sms_channel.pk}/status"
    delivered = {"MessageSid": "SMout", "MessageStatus": "delivered", "AccountSid": "AC1"}
    assert post_twilio(Client(), path, delivered).status_code == 200
    out.refresh_from_db()
    assert out.status == "delivered"
    sent = {"MessageSid": "SMout", "MessageStatus": "sent", "AccountSid": "AC1"}
    post_twilio(Client(), path, sent)
    out.refresh_from_db()
    assert out.status == "delivered"


def test_status_callback_21610_reads_as_opt_out(sms_channel, carol):
    out = sent_message(sms_channel, carol, "SMo")
    form = {"MessageSid": "SMo", "MessageStatus": "failed", "ErrorCode": "21610"}
    post_twilio(Client(), f"/webhooks/sms/{sms_channel.pk}/status", form)
    out.refresh_from_db()
    assert out.status == "failed" and out.error_code == "21610"
    assert "opted out" in out.error_reason


def test_status_callback_with_reference_settles_an_interrupted_send(sms_channel, carol):
    chat = Chat.objects.create(channel=sms_channel, contact=carol, created_at=clock.now())
    out = Message.objects.create(
        chat=chat,
        channel=sms_channel,
        direction=Direction.OUT,
        status=DeliveryStatus.QUEUED,
        in_flight_since=clock.now(),
        created_at=clock.now(),
    )
    path = f"/webhooks/sms/{sms_channel.pk}/status?ref=chatdesk-{out.pk}"
    form = {"MessageSid": "SMlost", "MessageStatus": "sent"}
    assert post_twilio(Client(), path, form).status_code == 200
    out.refresh_from_db()
    assert (out.status, out.provider_message_id, out.in_flight_since) == ("sent", "SMlost", None)
