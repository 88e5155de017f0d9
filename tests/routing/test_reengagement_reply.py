"""A customer's reply to a re-engagement: the new chat continues the chat that was
followed up (its timeline, the API and the live events say which, and who re-engaged),
and it goes first to the agent who re-engaged them when they can take it now; otherwise
the usual rules place it. A reply to nothing, or to a follow-up long past or already
answered, starts a chat as before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

import pytest
import time_machine

from chatdesk.accounts.models import Presence, User
from chatdesk.chats.models import Chat, ChatEvent, ChatKind, Contact, EventKind, TicketState
from chatdesk.chats.queries.reengagement import ANSWERED_WITHIN
from chatdesk.chats.services.outbound import Reply
from chatdesk.core import clock
from chatdesk.flows import lifecycle
from chatdesk.flows.outbound import send_message
from chatdesk.providers.models import Channel
from chatdesk.realtime.models import LiveEvent, LiveEventType
from chatdesk.routing.services import Interval, set_business_hours
from tests.support.chats import make_chat, write_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+27825550101"
Online = Callable[..., User]


def served_and_closed(channel: Channel, agent: User, text: str = "Where is my parcel?") -> Chat:
    """The customer writes, ``agent`` (the only one online) takes the chat and closes it."""
    chat = Chat.objects.get(pk=write_in(channel, PHONE, text, name="Lerato Mokoena").chat_id)
    assert chat.agent_id == agent.pk
    lifecycle.close_chat(chat_id=chat.pk, by=agent)
    return chat


def reengage(chat: Chat, by: User, text: str = "Your parcel arrived: shall we deliver?") -> int:
    return send_message(chat_id=chat.pk, reply=Reply(text=text), by=by).pk


def reply(channel: Channel, text: str = "Yes please, tomorrow") -> Chat:
    chat = Chat.objects.get(pk=write_in(channel, PHONE, text).chat_id)
    assert chat.status == "open"
    return chat


def busy(agent: User, channel: Channel, count: int) -> None:
    """``agent`` holds ``count`` open chats of other customers."""
    for n in range(count):
        contact = Contact.objects.create(phone=f"+2782666{n:04d}", name=f"Other {n}")
        Chat.objects.create(channel=channel, contact=contact, agent=agent, created_at=clock.now())


def close_the_desk() -> None:
    """Business hours on one day that is not today: out of hours now."""
    closed_day = (clock.now().weekday() + 3) % 7
    set_business_hours(
        department=None,
        timezone="UTC",
        weekly=[Interval(day=closed_day, start=time(9), end=time(10))],
        exceptions=[],
        by=None,
    )


def kinds(chat: Chat) -> list[str]:
    return list(ChatEvent.objects.filter(chat=chat).values_list("kind", flat=True))


def test_the_reply_continues_the_chat_and_goes_to_the_agent_who_re_engaged(
    sandbox: Channel, alice: User, bob: User, online: Online, api_as: Any
) -> None:
    online(alice, capacity=10)
    earlier = served_and_closed(sandbox, alice)
    followup = reengage(earlier, alice)
    online(bob, capacity=10)
    busy(alice, sandbox, 3)  # bob has more room: the usual rules would choose him

    chat = reply(sandbox)
    assert chat.pk != earlier.pk
    assert (chat.kind, chat.agent_id, chat.continues_id) == (ChatKind.CHAT, alice.pk, earlier.pk)
    assert kinds(chat) == ["created", "reengagement_reply", "assigned"]
    answered = ChatEvent.objects.get(chat=chat, kind=EventKind.REENGAGEMENT_REPLY)
    assert answered.data == {
        "continues_chat_id": earlier.pk,
        "reengaged_by_id": alice.pk,
        "message_id": followup,
    }
    assigned = ChatEvent.objects.get(chat=chat, kind=EventKind.ASSIGNED)
    assert assigned.data["reason"] == "reengagement_reply"

    # The API's chat and the live chat.* events name the chat it continues.
    shown = api_as(alice).get(f"/chats/{chat.pk}")
    assert shown.status_code == 200, shown.content
    assert shown.json()["continues_chat_id"] == earlier.pk
    assert api_as(alice).get(f"/chats/{earlier.pk}").json()["continues_chat_id"] is None
    events = LiveEvent.objects.filter(chat_id=chat.pk, type__startswith="chat.").order_by("seq")
    assert [e.type for e in events] == [LiveEventType.CHAT_CREATED, LiveEventType.CHAT_ASSIGNED]
    assert all(e.data["continues_chat_id"] == earlier.pk for e in events)
    assert events.last().data["reason"] == "reengagement_reply"  # type: ignore[union-attr]


def test_the_agent_who_re_engaged_gets_the_reply_out_of_hours_while_at_the_desk(
    sandbox: Channel, alice: User, online: Online
) -> None:
    online(alice)
    earlier = served_and_closed(sandbox, alice)
    reengage(earlier, alice)
    close_the_desk()

    chat = reply(sandbox)
    assert (chat.kind, chat.agent_id, chat.continues_id) == (ChatKind.CHAT, alice.pk, earlier.pk)
    assert not chat.messages.filter(is_automatic=True).exists()  # no "we're closed"


def test_out_of_hours_with_the_agent_gone_the_reply_is_a_ticket_as_before(
    sandbox: Channel, alice: User, online: Online
) -> None:
    sandbox.out_of_hours_reply = "We are closed."
    sandbox.save()
    online(alice)
    earlier = served_and_closed(sandbox, alice)
    reengage(earlier, alice)
    close_the_desk()
    User.objects.filter(pk=alice.pk).update(presence=Presence.AWAY)

    chat = reply(sandbox)
    assert (chat.kind, chat.ticket_state, chat.agent_id) == (
        ChatKind.TICKET,
        TicketState.UNASSIGNED,
        None,
    )
    assert chat.continues_id == earlier.pk
    assert list(chat.messages.filter(is_automatic=True).values_list("text", flat=True)) == [
        "We are closed."
    ]


def test_the_reply_falls_back_to_the_usual_rules_when_the_re_engager_is_away(
    sandbox: Channel, alice: User, bob: User, online: Online
) -> None:
    online(alice)
    earlier = served_and_closed(sandbox, alice)
    reengage(earlier, alice)
    online(bob)
    User.objects.filter(pk=alice.pk).update(presence=Presence.AWAY)

    chat = reply(sandbox)
    assert (chat.agent_id, chat.continues_id) == (bob.pk, earlier.pk)
    assigned = ChatEvent.objects.get(chat=chat, kind=EventKind.ASSIGNED)
    assert "reason" not in assigned.data


def test_the_reply_falls_back_to_the_usual_rules_when_the_re_engager_is_full(
    sandbox: Channel, alice: User, bob: User, online: Online
) -> None:
    online(alice, capacity=1)
    earlier = served_and_closed(sandbox, alice)
    reengage(earlier, alice)
    online(bob)
    write_in(sandbox, "+27827770001", "another customer")  # alice or bob: least loaded
    User.objects.filter(pk=bob.pk).update(capacity=5)
    Chat.objects.filter(contact__phone="+27827770001").update(agent=alice)  # alice is full

    chat = reply(sandbox)
    assert (chat.agent_id, chat.continues_id) == (bob.pk, earlier.pk)


def test_a_supervisors_follow_up_goes_back_to_the_agent_who_had_the_chat(
    sandbox: Channel, alice: User, bob: User, sam: User, online: Online
) -> None:
    online(bob, capacity=10)
    earlier = served_and_closed(sandbox, bob)
    busy(bob, sandbox, 2)
    online(alice, capacity=10)
    reengage(earlier, sam)

    chat = reply(sandbox)
    assert (chat.agent_id, chat.continues_id) == (bob.pk, earlier.pk)
    answered = ChatEvent.objects.get(chat=chat, kind=EventKind.REENGAGEMENT_REPLY)
    assert answered.data["reengaged_by_id"] == sam.pk


def test_a_message_after_a_chat_that_was_not_re_engaged_is_unchanged(
    sandbox: Channel, alice: User, online: Online
) -> None:
    online(alice)
    earlier = served_and_closed(sandbox, alice)

    chat = reply(sandbox, "Hello again")
    assert chat.pk != earlier.pk
    assert chat.continues_id is None
    assert kinds(chat) == ["created", "assigned"]


def test_a_follow_up_long_past_or_already_answered_is_not_continued(
    sandbox: Channel, alice: User, online: Online
) -> None:
    online(alice)
    earlier = served_and_closed(sandbox, alice)
    reengage(earlier, alice)
    with time_machine.travel(clock.now() + ANSWERED_WITHIN + timedelta(hours=1)):
        online(alice)
        late = reply(sandbox, "Sorry, I was away")
        assert late.continues_id is None
        assert EventKind.REENGAGEMENT_REPLY not in kinds(late)
        lifecycle.close_chat(chat_id=late.pk, by=alice)

    # Answered already: the follow-up went into a ticket the contact then wrote in again.
    ticket = make_chat(sandbox, PHONE, agent=alice, state="assigned")
    reengage(ticket, alice)
    write_in(sandbox, PHONE, "Thanks, got it")
    assert ticket.messages.filter(direction="in").count() == 1  # it joined the ticket
    lifecycle.close_chat(chat_id=ticket.pk, by=alice)
    again = reply(sandbox, "One more thing")
    assert again.continues_id is None
