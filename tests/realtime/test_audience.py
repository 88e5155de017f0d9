"""The one visibility rule of ``chats.access`` in its three forms: the chats a user may see,
the users who may see a chat, and a live event's audience (live and replayed) agree with
``sees`` for every pair of a mixed set of users and chats in every state."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import Role, User
from chatdesk.chats import access
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, ClosedBy, Contact, TicketState
from chatdesk.core import clock
from chatdesk.providers.models import Channel
from chatdesk.realtime import log as live_log
from chatdesk.realtime.models import LiveEvent, LiveEventType
from chatdesk.routing.models import Department

realtime_db = pytest.mark.django_db(transaction=True)


def make_user(username: str, role: str, *departments: Department) -> User:
    return account_services.create_user(
        username=username,
        password=None,
        role=role,
        department_ids=[department.pk for department in departments],
    )


@dataclass
class Desk:
    users: dict[str, User]
    chats: dict[str, Chat]


@pytest.fixture
def desk(
    sandbox: Channel,
    sales: Department,
    support: Department,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    ada: User,
) -> Desk:
    """Agents of one department (alice, bob: Sales; dave: Support), of both (polly), of
    none (otto), a deactivated Sales agent (xena), a supervisor, a supervisor with a
    department, an admin and a superuser agent; chats held by an agent, tickets waiting
    in each queue and in none, assigned and closed ones."""
    polly = make_user("polly", Role.AGENT, sales, support)
    otto = make_user("otto", Role.AGENT)
    xena = make_user("xena", Role.AGENT, sales)
    User.objects.filter(pk=xena.pk).update(is_active=False)
    xena.refresh_from_db()
    vera = make_user("vera", Role.SUPERVISOR, support)
    root = make_user("root", Role.AGENT)
    User.objects.filter(pk=root.pk).update(is_superuser=True)
    root.refresh_from_db()
    users = {
        user.username: user for user in (alice, bob, dave, sam, ada, polly, otto, xena, vera, root)
    }

    now = clock.now()
    phones = (f"+2782555{n:04d}" for n in itertools.count())

    def chat(
        kind: str,
        *,
        agent: User | None = None,
        department: Department | None = sales,
        ticket_state: str | None = None,
        closed: bool = False,
    ) -> Chat:
        contact = Contact.objects.create(phone=next(phones), name="Customer")
        return Chat.objects.create(
            kind=kind,
            status=ChatStatus.CLOSED if closed else ChatStatus.OPEN,
            ticket_state=ticket_state,
            channel=sandbox,
            contact=contact,
            agent=agent,
            department=department,
            created_at=now - timedelta(minutes=5),
            closed_at=now if closed else None,
            closed_by=ClosedBy.AGENT if closed else None,
        )

    chats = {
        "alice's live chat": chat(ChatKind.CHAT, agent=alice),
        "dave's live chat": chat(ChatKind.CHAT, agent=dave, department=support),
        "alice's closed chat": chat(ChatKind.CHAT, agent=alice, closed=True),
        "the Sales queue's ticket": chat(ChatKind.TICKET, ticket_state=TicketState.UNASSIGNED),
        "the Support queue's ticket": chat(
            ChatKind.TICKET, ticket_state=TicketState.UNASSIGNED, department=support
        ),
        "a ticket of no department": chat(
            ChatKind.TICKET, ticket_state=TicketState.UNASSIGNED, department=None
        ),
        "bob's Sales ticket": chat(ChatKind.TICKET, agent=bob, ticket_state=TicketState.ASSIGNED),
        "a closed Sales ticket": chat(
            ChatKind.TICKET, agent=bob, ticket_state=TicketState.CLOSED, closed=True
        ),
        "a closed unheld ticket": chat(
            ChatKind.TICKET, ticket_state=TicketState.CLOSED, closed=True
        ),
    }
    return Desk(users=users, chats=chats)


@realtime_db
def test_the_three_forms_of_the_visibility_rule_agree_for_a_mixed_set_of_users(
    desk: Desk,
) -> None:
    # One chat event and one message event per chat, numbered (and addressed from the
    # chat as committed) by the sequencer after the commit, as any service's are.
    with transaction.atomic():
        for chat in desk.chats.values():
            live_log.chat_event(LiveEventType.CHAT_ASSIGNED, chat)
            live_log.publish(LiveEventType.MESSAGE_CREATED, data={}, chat_id=chat.pk)
    events = list(LiveEvent.objects.filter(chat_id__isnull=False).order_by("seq"))
    assert len(events) == 2 * len(desk.chats)
    assert all(event.seq is not None for event in events)

    expected: dict[tuple[str, str], bool] = {}
    for (username, user), (name, chat) in itertools.product(desk.users.items(), desk.chats.items()):
        viewer = access.viewer_for(user)
        rule = access.sees(viewer, access.audience_of(chat))
        expected[username, name] = rule
        case = (username, name, rule)
        # The chats a user may see.
        assert access.visible_chats(user).filter(pk=chat.pk).exists() == rule, case
        assert Chat.objects.filter(access.chat_filter(user)).filter(pk=chat.pk).exists() == rule, (
            case
        )
        # The users who may see a chat.
        assert access.may_see_chat(user, chat) == rule, case
        assert access.users_who_may_see(chat).filter(pk=user.pk).exists() == rule, case
        # A live event's audience: live delivery and replay.
        about = [event for event in events if event.chat_id == chat.pk]
        replayed = set(access.visible_events(viewer).values_list("pk", flat=True))
        for event in about:
            assert access.can_see(viewer, live_log.as_dict(event)) == rule, (case, event.type)
            assert (event.pk in replayed) == rule, (case, event.type)

    # Every user list the query form gives is exactly the rule's, without repeats.
    for name, chat in desk.chats.items():
        listed = list(access.users_who_may_see(chat).values_list("username", flat=True))
        assert sorted(listed) == sorted(u for u in desk.users if expected[u, name]), name

    # The rule does decide, in every way it can.
    def seen_by(username: str) -> set[str]:
        return {name for name in desk.chats if expected[username, name]}

    everything = set(desk.chats)
    assert seen_by("sam") == seen_by("ada") == seen_by("root") == seen_by("vera") == everything
    assert seen_by("xena") == set()  # deactivated
    # A ticket of no department waits in the desk's queue, which every agent serves.
    desk_queue = "a ticket of no department"
    assert seen_by("otto") == {desk_queue}  # an agent of no department, holding nothing
    assert seen_by("alice") == {
        "alice's live chat",
        "alice's closed chat",
        "the Sales queue's ticket",
        desk_queue,
    }
    assert seen_by("bob") == {
        "bob's Sales ticket",
        "a closed Sales ticket",
        "the Sales queue's ticket",
        desk_queue,
    }
    assert seen_by("dave") == {"dave's live chat", "the Support queue's ticket", desk_queue}
    assert seen_by("polly") == {
        "the Sales queue's ticket",
        "the Support queue's ticket",
        desk_queue,
    }


@realtime_db
def test_the_queue_a_chat_waits_in_is_its_department_or_the_desks_only_while_unassigned(
    desk: Desk, sales: Department, support: Department
) -> None:
    queues = {name: access.queue_department(chat) for name, chat in desk.chats.items()}
    assert queues == {
        "alice's live chat": None,
        "dave's live chat": None,
        "alice's closed chat": None,
        "the Sales queue's ticket": sales.pk,
        "the Support queue's ticket": support.pk,
        "a ticket of no department": access.DESK_QUEUE,
        "bob's Sales ticket": None,
        "a closed Sales ticket": None,
        "a closed unheld ticket": None,
    }
