"""Who may send what, where: the rules checked before a message is queued."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from chatdesk.chats.models import (
    Chat,
    ChatKind,
    ChatStatus,
    ContactOptOut,
    Message,
    TicketState,
)
from chatdesk.chats.services.outbound import Reply, render
from chatdesk.core import clock
from chatdesk.core.errors import BadInput, Conflict, Forbidden, NotFound
from chatdesk.flows.outbound import send_message
from chatdesk.providers.models import Template

# alice_on_duty: autouse where these tests lived before (tests/messaging).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alice_on_duty")]


def live_chat(channel, contact, agent=None, **fields) -> Chat:
    return Chat.objects.create(
        channel=channel, contact=contact, agent=agent, created_at=clock.now(), **fields
    )


def test_agent_replies_into_own_chat_and_it_is_queued_for_after_commit(
    sandbox, carol, alice, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    chat = live_chat(sandbox, carol, alice)
    with django_capture_on_commit_callbacks() as callbacks:
        message = send_message(chat_id=chat.pk, reply=Reply(text="Hello Carol"), by=alice)
    assert (message.status, message.direction, message.author) == ("queued", "out", alice)
    assert DBTaskResult.objects.count() == 0  # the delivery is enqueued only after commit
    for callback in callbacks:
        callback()
    assert DBTaskResult.objects.count() == 1
    chat.refresh_from_db()
    assert chat.first_response_at == message.created_at


def test_nothing_is_enqueued_when_the_transaction_rolls_back(
    sandbox, carol, alice, django_capture_on_commit_callbacks
):
    from django.db import transaction

    chat = live_chat(sandbox, carol, alice)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send_message(chat_id=chat.pk, reply=Reply(text="oops"), by=alice)
        raise RuntimeError("rolled back")
    assert callbacks == []
    assert Message.objects.count() == 0


def test_supervisor_cannot_send_into_an_agents_live_chat(sandbox, carol, alice, sam):
    chat = live_chat(sandbox, carol, alice)
    with pytest.raises(Forbidden, match="comment"):
        send_message(chat_id=chat.pk, reply=Reply(text="hi"), by=sam)
    assert Message.objects.count() == 0


def test_agent_cannot_see_another_agents_chat(sandbox, carol, alice, bob):
    chat = live_chat(sandbox, carol, bob)
    with pytest.raises(NotFound):
        send_message(chat_id=chat.pk, reply=Reply(text="hi"), by=alice)


def test_closed_chat_can_be_reengaged_by_supervisor_and_is_recorded(sandbox, carol, alice, sam):
    chat = live_chat(sandbox, carol, alice, status=ChatStatus.CLOSED, closed_at=clock.now())
    message = send_message(chat_id=chat.pk, reply=Reply(text="Following up"), by=sam)
    assert message.status == "queued"
    event = chat.events.get(kind="reengaged")
    assert event.actor == sam and event.data["message_id"] == message.pk


def test_unassigned_ticket_must_be_accepted_by_an_agent_first(sandbox, carol, alice, sam):
    ticket = live_chat(
        sandbox,
        carol,
        kind=ChatKind.TICKET,
        ticket_state=TicketState.UNASSIGNED,
        department=sandbox.department,
    )
    with pytest.raises(Conflict, match="Accept the ticket"):
        send_message(chat_id=ticket.pk, reply=Reply(text="hi"), by=alice)
    assert send_message(chat_id=ticket.pk, reply=Reply(text="hi"), by=sam).status == "queued"


def test_text_and_template_together_or_neither_is_bad_input(sandbox, carol, alice):
    chat = live_chat(sandbox, carol, alice)
    with pytest.raises(BadInput, match="either text or a template_id"):
        send_message(chat_id=chat.pk, reply=Reply(), by=alice)
    with pytest.raises(BadInput):
        send_message(chat_id=chat.pk, reply=Reply(text="x", template_id=1), by=alice)
    with pytest.raises(BadInput, match="empty"):
        send_message(chat_id=chat.pk, reply=Reply(text="   "), by=alice)
    with pytest.raises(BadInput, match="4096"):
        send_message(chat_id=chat.pk, reply=Reply(text="x" * 4097), by=alice)


def test_opted_out_contact_cannot_be_messaged(sandbox, carol, alice):
    chat = live_chat(sandbox, carol, alice)
    ContactOptOut.objects.create(contact=carol, channel=sandbox, created_at=clock.now())
    with pytest.raises(Conflict, match="opted out"):
        send_message(chat_id=chat.pk, reply=Reply(text="hi"), by=alice)


@pytest.fixture
def wa(db, sales):
    from chatdesk.providers.models import Channel

    return Channel.objects.create(
        kind="whatsapp",
        name="WA",
        department=sales,
        config={"phone_number_id": "1"},
        secrets={"access_token": "t"},
    )


def test_whatsapp_free_text_only_inside_the_window(wa, carol, alice):
    start = clock.now()
    chat = live_chat(wa, carol, alice, last_inbound_at=start)
    with time_machine.travel(start + timedelta(hours=23, minutes=59)):
        assert send_message(chat_id=chat.pk, reply=Reply(text="in time"), by=alice).pk
    with (
        time_machine.travel(start + timedelta(hours=24, seconds=1)),
        pytest.raises(Conflict, match="contact window is closed"),
    ):
        send_message(chat_id=chat.pk, reply=Reply(text="too late"), by=alice)
    assert Message.objects.count() == 1


def test_a_sandbox_set_to_keep_the_window_refuses_free_text_after_it(sandbox, carol, alice):
    """The README's recipe for trying the window and templates without Meta."""
    start = clock.now()
    chat = live_chat(sandbox, carol, alice, last_inbound_at=start)
    late = start + timedelta(hours=24, seconds=1)
    with time_machine.travel(late):
        assert send_message(chat_id=chat.pk, reply=Reply(text="no window here"), by=alice).pk
    sandbox.config = {"contact_window": "whatsapp"}
    sandbox.save(update_fields=["config"])
    chat.refresh_from_db()
    with time_machine.travel(start + timedelta(hours=23)):
        assert send_message(chat_id=chat.pk, reply=Reply(text="in time"), by=alice).pk
    with time_machine.travel(late), pytest.raises(Conflict, match="contact window is closed"):
        send_message(chat_id=chat.pk, reply=Reply(text="too late"), by=alice)
    template = Template.objects.create(
        channel=sandbox, name="follow_up", body="Hi {{1}}", status="approved"
    )
    with time_machine.travel(late):
        sent = send_message(
            chat_id=chat.pk,
            reply=Reply(template_id=template.pk, variables=("Carol",)),
            by=alice,
        )
    assert sent.text == "Hi Carol"
    assert Message.objects.count() == 3


def test_whatsapp_with_no_inbound_message_has_a_closed_window(wa, carol, alice):
    chat = live_chat(wa, carol, alice)
    with pytest.raises(Conflict, match="template"):
        send_message(chat_id=chat.pk, reply=Reply(text="hello?"), by=alice)


def test_template_outside_the_window_renders_and_stores_variables(wa, carol, alice):
    chat = live_chat(
        wa,
        carol,
        alice,
        status=ChatStatus.CLOSED,
        closed_at=clock.now(),
        last_inbound_at=clock.now() - timedelta(days=3),
    )
    template = Template.objects.create(
        channel=wa,
        name="order_update",
        language="en_US",
        status="approved",
        body="Hi {{1}}, order {{2}} ships today.",
    )
    message = send_message(
        chat_id=chat.pk, reply=Reply(template_id=template.pk, variables=("Carol", "A-17")), by=alice
    )
    assert message.text == "Hi Carol, order A-17 ships today."
    assert message.template == template and message.template_variables == ["Carol", "A-17"]
    assert message.content_type == "template"


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        (("Carol",), "takes 2 variables; 1 were given"),
        (("Carol", "A", "B"), "takes 2 variables; 3 were given"),
        (("Carol", "line\nbreak"), "new lines"),
        (("Carol", "a     b"), "four spaces"),
        (("Carol", " "), "empty"),
    ],
)
def test_template_variables_are_checked(wa, carol, alice, variables, error):
    chat = live_chat(wa, carol, alice)
    template = Template.objects.create(
        channel=wa, name="t", language="en_US", status="approved", body="Hi {{1}} {{2}}"
    )
    with pytest.raises(BadInput, match=error):
        send_message(
            chat_id=chat.pk, reply=Reply(template_id=template.pk, variables=variables), by=alice
        )
    assert Message.objects.count() == 0


def test_only_approved_templates_of_the_chats_channel(wa, sandbox, carol, alice):
    chat = live_chat(wa, carol, alice)
    pending = Template.objects.create(channel=wa, name="p", body="Hi", status="pending")
    other = Template.objects.create(channel=sandbox, name="o", body="Hi", status="approved")
    with pytest.raises(Conflict, match="only approved"):
        send_message(chat_id=chat.pk, reply=Reply(template_id=pending.pk), by=alice)
    with pytest.raises(BadInput, match="another channel"):
        send_message(chat_id=chat.pk, reply=Reply(template_id=other.pk), by=alice)
    with pytest.raises(BadInput, match="No template"):
        send_message(chat_id=chat.pk, reply=Reply(template_id=999999), by=alice)


def test_render_fills_numbered_placeholders():
    assert render("{{1}} and {{ 2 }} and {{1}}", ["a", "b"]) == "a and b and a"
