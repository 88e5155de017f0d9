"""Placing new chats: to an agent, into the queue, or as a ticket; and the queue draining."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from chatdesk.accounts.models import Connection
from chatdesk.chats.models import Chat, ChatEvent, Message
from chatdesk.core import clock
from chatdesk.flows import queues as assignment
from chatdesk.flows.lifecycle import close_chat
from chatdesk.flows.presence import set_presence
from chatdesk.routing.services import Interval, set_business_hours
from tests.support.chats import phone

pytestmark = pytest.mark.django_db


def test_new_chat_goes_to_an_available_online_agent_of_the_department(
    online, customer_writes, alice, dave
):
    online(alice)
    online(dave)  # Support: not the sandbox's department
    chat = customer_writes(phone(1))
    assert chat.kind == "chat" and chat.agent == alice
    assert chat.assigned_at is not None and chat.queued_at is None
    alice.refresh_from_db()
    assert alice.last_assigned_at == chat.assigned_at
    assert ChatEvent.objects.filter(chat=chat, kind="assigned", actor=None).exists()


def test_least_loaded_first_then_longest_idle(online, customer_writes, alice, bob):
    online(alice)
    online(bob)
    first = customer_writes(phone(1))
    second = customer_writes(phone(2))
    assert {first.agent, second.agent} == {alice, bob}  # one each: least loaded
    third = customer_writes(phone(3))
    # Both hold one; the one assigned longer ago gets it.
    assert third.agent == first.agent


def test_away_offline_and_disconnected_agents_are_skipped(online, customer_writes, alice, bob):
    online(alice)
    set_presence(user=alice, status="away")
    online(bob)
    Connection.objects.filter(user=bob).update(last_seen_at=clock.now() - timedelta(seconds=120))
    chat = customer_writes(phone(1))
    assert chat.agent is None and chat.kind == "ticket"


def test_nobody_online_makes_an_unassigned_ticket_with_its_reply_once(customer_writes, sandbox):
    chat = customer_writes(phone(1), "Anyone there?")
    assert (chat.kind, chat.ticket_state, chat.agent) == ("ticket", "unassigned", None)
    event = ChatEvent.objects.get(chat=chat, kind="ticketed")
    assert event.data["reason"] == "nobody_online"
    replies = Message.objects.filter(chat=chat, direction="out", is_automatic=True)
    # In hours (no schedule: always open): not "we're closed".
    assert [m.text for m in replies] == [sandbox.nobody_available_reply]
    assert sandbox.nobody_available_reply != sandbox.out_of_hours_reply
    again = customer_writes(phone(1), "Hello??")
    assert again.pk == chat.pk  # later messages join the ticket
    assert Message.objects.filter(chat=chat, direction="out", is_automatic=True).count() == 1


def test_out_of_hours_makes_a_ticket_even_with_agents_online(online, customer_writes, alice):
    online(alice)
    today = clock.now().weekday()
    closed_day = (today + 3) % 7
    set_business_hours(
        department=None,
        timezone="UTC",
        weekly=[Interval(day=closed_day, start=time(9), end=time(10))],
        exceptions=[],
        by=None,
    )
    chat = customer_writes(phone(1))
    assert chat.kind == "ticket"
    assert ChatEvent.objects.get(chat=chat, kind="ticketed").data["reason"] == "out_of_hours"


def test_full_agents_queue_the_chat_fifo_and_a_close_frees_capacity(
    online, customer_writes, alice, sandbox, django_capture_on_commit_callbacks
):
    online(alice, capacity=1)
    held = customer_writes(phone(1))
    waiting_first = customer_writes(phone(2))
    waiting_second = customer_writes(phone(3))
    assert held.agent == alice
    for waiting in (waiting_first, waiting_second):
        assert waiting.kind == "chat" and waiting.agent is None and waiting.queued_at is not None
        replies = Message.objects.filter(chat=waiting, is_automatic=True)
        assert [m.text for m in replies] == [sandbox.queue_reply]
    with django_capture_on_commit_callbacks(execute=True):
        close_chat(chat_id=held.pk, by=alice)
    waiting_first.refresh_from_db()
    waiting_second.refresh_from_db()
    assert waiting_first.agent == alice  # first in, first out
    assert waiting_second.agent is None
    assert ChatEvent.objects.filter(chat=waiting_first, kind="assigned").exists()


def test_previous_agent_is_preferred_when_the_contact_returns(online, customer_writes, alice, bob):
    online(alice)
    online(bob)
    first = customer_writes(phone(1))
    holder = first.agent
    close_chat(chat_id=first.pk, by=holder)
    customer_writes(phone(2))  # give the other agent nothing, the holder one more
    returning = customer_writes(phone(1), "Me again")
    assert returning.pk != first.pk
    assert returning.agent == holder


def test_an_unassigned_ticket_gives_way_to_a_live_chat_once_agents_are_online(
    online, customer_writes, alice
):
    ticket = customer_writes(phone(1), "Out of hours question")
    assert ticket.kind == "ticket"
    online(alice)
    live = customer_writes(phone(1), "Are you there now?")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.ticket_state, ticket.closed_by) == ("closed", "closed", "system")
    assert live.kind == "chat" and live.agent == alice


def test_a_message_to_an_assigned_ticket_joins_it(online, customer_writes, alice, sam):
    from chatdesk.flows.transfers import Target, assign_chat

    ticket = customer_writes(phone(1))
    assign_chat(chat_id=ticket.pk, target=Target(agent_id=alice.pk), by=sam)
    online(alice)
    again = customer_writes(phone(1), "Any news?")
    assert again.pk == ticket.pk


def test_agent_going_offline_requeues_chats_to_others(
    online, customer_writes, alice, bob, django_capture_on_commit_callbacks
):
    online(alice)
    first = customer_writes(phone(1))
    assert first.agent == alice
    online(bob)
    Connection.objects.filter(user=alice).delete()
    with django_capture_on_commit_callbacks(execute=True):
        assignment.agent_became_unavailable(user=alice)
    first.refresh_from_db()
    assert first.agent == bob
    assert ChatEvent.objects.filter(
        chat=first, kind="queued", data__reason="agent_offline"
    ).exists()


def test_agent_becoming_available_drains_the_queue(online, customer_writes, alice):
    online(alice, capacity=1)
    customer_writes(phone(1))
    waiting = customer_writes(phone(2))
    assert waiting.agent is None
    alice.capacity = 2
    alice.save()
    assignment.agent_became_available(user=alice)
    waiting.refresh_from_db()
    assert waiting.agent == alice


def test_chat_with_no_department_goes_to_any_agent(online, alice, dave, db):
    from chatdesk.providers.models import Channel
    from tests.support.chats import write_in

    channel = Channel.objects.create(kind="sandbox", name="No department")
    online(dave)
    chat = Chat.objects.get(pk=write_in(channel, phone(9)).chat_id)
    assert chat.agent == dave


def test_inactive_chats_close_by_the_system_and_free_capacity(
    online, customer_writes, alice, settings
):
    import time_machine

    from chatdesk.flows.lifecycle import close_inactive_chats

    settings.CHATDESK_INACTIVITY_CLOSE = 3600
    online(alice, capacity=1)
    quiet = customer_writes(phone(1))
    with time_machine.travel(clock.now() + timedelta(minutes=50)):
        Connection.objects.filter(user=alice).update(last_seen_at=clock.now())
        waiting = customer_writes(phone(2))
        assert waiting.agent is None
        assert close_inactive_chats() == []
    with time_machine.travel(clock.now() + timedelta(minutes=61)):
        Connection.objects.filter(user=alice).update(last_seen_at=clock.now())
        assert close_inactive_chats() == [quiet.pk]
    quiet.refresh_from_db()
    waiting.refresh_from_db()
    assert (quiet.status, quiet.closed_by) == ("closed", "system")
    assert waiting.agent == alice


def test_unanswered_first_message_moves_to_another_agent_when_enabled(
    online, customer_writes, alice, bob, settings
):
    import time_machine

    from chatdesk.chats.services.outbound import Reply
    from chatdesk.flows.outbound import send_message

    online(alice)
    chat = customer_writes(phone(1))
    answered = customer_writes(phone(2))
    assert chat.agent == answered.agent == alice  # bob is not online yet
    send_message(chat_id=answered.pk, reply=Reply(text="Hi!"), by=alice)
    online(bob)
    settings.CHATDESK_UNANSWERED_REASSIGN = 0
    assert assignment.reassign_unanswered() == []  # off by default
    settings.CHATDESK_UNANSWERED_REASSIGN = 300
    assert assignment.reassign_unanswered() == []  # not yet
    with time_machine.travel(clock.now() + timedelta(seconds=301)):
        Connection.objects.update(last_seen_at=clock.now())
        assert assignment.reassign_unanswered() == [chat.pk]
    chat.refresh_from_db()
    answered.refresh_from_db()
    assert chat.agent == bob and answered.agent == alice
    event = ChatEvent.objects.filter(chat=chat, kind="transferred").get()
    assert (event.data["reason"], event.data["from_agent_id"]) == ("unanswered", alice.pk)
