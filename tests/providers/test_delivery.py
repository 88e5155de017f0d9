"""Delivering queued messages through fake Meta and Twilio servers on loopback: what we
send, retries with backoff, failures with reasons, and never a message sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from chatdesk.chats.models import Chat, ContactOptOut, Message
from chatdesk.chats.services.outbound import Reply
from chatdesk.core import clock
from chatdesk.flows.outbound import send_message
from chatdesk.providers.models import Channel, Template
from chatdesk.providers.tasks import deliver
from chatdesk.providers.tasks import sweep_outbox as recover_outbox
from tests.support.chats import queued
from tests.support.fakes import Reply as FakeReply
from tests.support.fakes import graph_error

# alice_on_duty: autouse where these tests lived before (tests/messaging).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alice_on_duty")]

QUICK = override_settings(
    CHATDESK_SEND_BACKOFF_BASE=0.01, CHATDESK_SEND_BACKOFF_CAP=0.02, CHATDESK_SEND_TIMEOUT=0.5
)


def test_whatsapp_text_goes_out_as_meta_documents(wa_live, carol, alice, fake_graph):
    message = queued(wa_live, carol, alice, "Your order shipped")
    assert deliver(message.pk) == "sent"
    request = fake_graph.last
    assert request.path == f"/v21.0/{fake_graph.phone_number_id}/messages"
    assert request.bearer == fake_graph.access_token
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "27821234567",
        "type": "text",
        "text": {"preview_url": False, "body": "Your order shipped"},
        "biz_opaque_callback_data": f"chatdesk-{message.pk}",
    }
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.provider_message_id == fake_graph.issued[0]
    assert message.in_flight_since is None and message.attempts == 1


def test_whatsapp_template_goes_out_with_body_parameters(wa_live, carol, alice, fake_graph):
    chat = Chat.objects.create(channel=wa_live, contact=carol, agent=alice, created_at=clock.now())
    template = Template.objects.create(
        channel=wa_live,
        name="order_update",
        language="en_US",
        status="approved",
        body="Hi {{1}}, {{2}}",
    )
    message = send_message(
        chat_id=chat.pk, reply=Reply(template_id=template.pk, variables=("Carol", "A-17")), by=alice
    )
    deliver(message.pk)
    assert fake_graph.last.json["type"] == "template"
    assert fake_graph.last.json["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Carol"}, {"type": "text", "text": "A-17"}],
            }
        ],
    }


@override_settings(PUBLIC_URL="https://desk.example.com")
def test_sms_goes_out_as_twilio_documents(sms_live, carol, alice, fake_twilio):
    message = queued(sms_live, carol, alice, "Hi from the desk")
    assert deliver(message.pk) == "sent"
    request = fake_twilio.last
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.basic_auth == (fake_twilio.account_sid, fake_twilio.auth_token)
    assert request.form["To"] == "+27821234567"
    assert request.form["From"] == "+14155550100"
    assert request.form["Body"] == "Hi from the desk"
    assert request.form["StatusCallback"] == (
        f"https://desk.example.com/webhooks/sms/{sms_live.pk}/status?ref=chatdesk-{message.pk}"
    )
    message.refresh_from_db()
    assert message.provider_message_id == fake_twilio.issued[0]


def test_a_task_that_runs_twice_sends_once(wa_live, carol, alice, fake_graph):
    message = queued(wa_live, carol, alice)
    assert deliver(message.pk) == "sent"
    assert deliver(message.pk) == "skipped"
    assert len(fake_graph.sent) == 1


def test_a_claimed_message_is_not_sent_by_a_second_worker(wa_live, carol, alice, fake_graph):
    message = queued(wa_live, carol, alice)
    Message.objects.filter(pk=message.pk).update(in_flight_since=clock.now())
    assert deliver(message.pk) == "skipped"
    assert fake_graph.sent == []


@QUICK
def test_500_then_200_is_delivered_once_after_a_retry(wa_live, carol, alice, fake_graph):
    fake_graph.queue((500, graph_error("Service temporarily unavailable", code=2)))
    message = queued(wa_live, carol, alice)
    assert deliver(message.pk) == "retry"
    message.refresh_from_db()
    assert message.status == "queued" and message.next_attempt_at is not None
    assert "Retrying" in message.error_reason
    with time_machine.travel(clock.now() + timedelta(seconds=1)):
        assert deliver(message.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_reason) == ("sent", 2, "")
    assert len(fake_graph.sent) == 2  # the failed attempt, then the one that went out
    assert len(fake_graph.issued) == 1


def test_a_retry_is_not_run_before_its_time(wa_live, carol, alice, fake_graph):
    fake_graph.queue((503, graph_error("busy", code=2)))
    message = queued(wa_live, carol, alice)
    assert deliver(message.pk) == "retry"
    assert deliver(message.pk) == "skipped"  # too early
    assert len(fake_graph.requests) == 1


def test_retry_after_is_honoured(wa_live, carol, alice, fake_graph):
    fake_graph.queue(
        FakeReply(429, graph_error("(#130429) Rate limit hit", code=130429), {"Retry-After": "30"})
    )
    message = queued(wa_live, carol, alice)
    before = clock.now()
    assert deliver(message.pk) == "retry"
    message.refresh_from_db()
    assert message.next_attempt_at is not None
    assert message.next_attempt_at >= before + timedelta(seconds=30)
    assert message.error_code == "130429"


@QUICK
def test_a_timeout_is_retried(wa_live, carol, alice, fake_graph):
    fake_graph.delay(2.0)
    message = queued(wa_live, carol, alice)
    assert deliver(message.pk) == "retry"
    message.refresh_from_db()
    assert "did not answer in time" in message.error_reason


@QUICK
@override_settings(CHATDESK_SEND_MAX_ATTEMPTS=3)
def test_bounded_retries_then_failed_with_the_reason(wa_live, carol, alice, fake_graph):
    fake_graph.queue(*[(500, graph_error("Internal error", code=1))] * 3)
    message = queued(wa_live, carol, alice)
    results = []
    start = clock.now()
    for attempt in range(1, 4):
        with time_machine.travel(start + timedelta(seconds=5 * attempt)):
            results.append(deliver(message.pk))
    assert results == ["retry", "retry", "failed"]
    message.refresh_from_db()
    assert message.status == "failed" and message.failed_at is not None
    assert message.error_reason.startswith("Gave up after 3 attempts")


def test_permanent_4xx_is_not_retried(wa_live, carol, alice, fake_graph):
    fake_graph.queue(
        (400, graph_error("Template name does not exist in the translation", code=132001))
    )
    message = queued(wa_live, carol, alice)
    assert deliver(message.pk) == "failed"
    assert len(fake_graph.requests) == 1
    message.refresh_from_db()
    assert message.error_code == "132001"
    assert "Template name does not exist" in message.error_reason


def test_meta_131047_fails_with_the_window_reason(wa_live, carol, alice, fake_graph):
    fake_graph.queue((400, graph_error("Re-engagement message", code=131047)))
    message = queued(wa_live, carol, alice)
    assert deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert "contact window is closed" in message.error_reason


def test_twilio_21610_fails_and_opts_the_contact_out(sms_live, carol, alice, fake_twilio):
    from tests.support.fakes import twilio_error

    fake_twilio.queue((400, twilio_error(21610, "Attempt to send to unsubscribed recipient")))
    message = queued(sms_live, carol, alice)
    assert deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert "opted out" in message.error_reason
    assert ContactOptOut.objects.filter(contact=carol, channel=sms_live).exists()


def test_connection_refused_is_retried(sales, carol, alice):
    from tests.support.fakes import closed_port_url

    channel = Channel.objects.create(
        kind="whatsapp",
        name="Down",
        department=sales,
        config={"phone_number_id": "1", "graph_api_url": closed_port_url()},
        secrets={"access_token": "t"},
    )
    message = queued(channel, carol, alice)
    assert deliver(message.pk) == "retry"
    message.refresh_from_db()
    assert "Could not reach WhatsApp" in message.error_reason


@override_settings(CHATDESK_SEND_LEASE=60, CHATDESK_SEND_AMBIGUOUS_GIVE_UP=600)
def test_recovery_requeues_lost_tasks_and_never_resends_an_interrupted_call(
    wa_live, carol, alice, fake_graph
):
    lost = queued(wa_live, carol, alice, "lost task")
    interrupted = send_message(chat_id=lost.chat_id, reply=Reply(text="interrupted"), by=alice)
    Message.objects.filter(pk=interrupted.pk).update(in_flight_since=clock.now(), attempts=1)
    later = clock.now() + timedelta(seconds=61)
    with time_machine.travel(later):
        summary = recover_outbox()
    enqueued = [
        row.args_kwargs["args"][0]
        for row in DBTaskResult.objects.filter(task_path__endswith="deliver_message")
    ]
    assert summary == {"requeued": 1, "ambiguous": 1, "given_up": 0}
    assert enqueued == [lost.pk]
    interrupted.refresh_from_db()
    assert interrupted.status == "queued" and interrupted.error_code == "ambiguous"
    # The interrupted one is never claimed again...
    assert deliver(interrupted.pk) == "skipped"
    # ...and, with no status callback by the give-up time, it fails with the reason.
    with time_machine.travel(clock.now() + timedelta(seconds=601)):
        recover_outbox()
    interrupted.refresh_from_db()
    assert interrupted.status == "failed"
    assert "never confirmed" in interrupted.error_reason
    assert fake_graph.sent == []
