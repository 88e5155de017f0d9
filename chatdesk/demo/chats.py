"""The demo's sample conversations, written as scripts and played against the demo channel.

Something lands in every tab: open live chats, closed chats (closed by an agent and by
the contact), and tickets that are unassigned, assigned and closed; with inbound and
outbound messages and their delivery statuses, a transfer, a template re-engagement,
comments (one @-mentioning an agent, with its notification) and each chat's timeline.

These rows are written directly, not through the inbound, routing and outbound services:
they are history dated in the past (minutes to days before now), while the services
stamp the present, route by who is online now and queue real sends. The set-up they
stand on (people, channel, templates, hours) comes from the services in ``demo.loader``.
(Past 400 lines: the scripts are data, one conversation each.)"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chatdesk.accounts.models import User
from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    ChatKind,
    ChatStatus,
    ClosedBy,
    Comment,
    Contact,
    ContentType,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    Notification,
    NotificationKind,
    TicketState,
)
from chatdesk.core import clock
from chatdesk.providers.models import PLACEHOLDER, Channel, Template
from chatdesk.routing.models import Department

# Every ``ago`` below counts minutes before now.
HOUR = 60
DAY = 24 * HOUR

READ, DELIVERED, SENT, FAILED = (
    DeliveryStatus.READ,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
)


@dataclass(frozen=True)
class In:
    """The contact writes."""

    ago: int
    text: str


@dataclass(frozen=True)
class Out:
    """An agent replies: free text, or an approved template with its variables."""

    ago: int
    by: str
    status: str
    text: str = ""
    template: str = ""
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class AutoReply:
    """The desk answers out of hours with the channel's reply."""

    ago: int


@dataclass(frozen=True)
class Transfer:
    ago: int
    by: str
    to: str
    department: str


@dataclass(frozen=True)
class Assign:
    """A supervisor assigns a ticket."""

    ago: int
    by: str
    to: str


@dataclass(frozen=True)
class Accept:
    """An agent takes a ticket."""

    ago: int
    by: str


@dataclass(frozen=True)
class Note:
    """An internal comment, perhaps @-mentioning users."""

    ago: int
    by: str
    body: str
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Close:
    ago: int
    closed_by: str
    by: str | None = None


Step = In | Out | AutoReply | Transfer | Assign | Accept | Note | Close


@dataclass(frozen=True)
class Script:
    """One conversation. With ``agent`` it was routed live to that agent; without, it
    became a ticket for ``ticket_reason``."""

    contact: str
    department: str
    started: int
    steps: tuple[Step, ...]
    agent: str | None = None
    ticket_reason: str = ""


# fmt: off
SCRIPTS = (
    # The Chats tab: open live chats.
    Script("lerato", "Sales", 25, agent="thandi", steps=(
        In(25, "Hi, I'd like to upgrade my fibre to 100 Mbps. What does it cost?"),
        Out(23, "thandi", READ, "Hi Lerato, Thandi from Sales here. The 100 Mbps package is "
            "R899 a month, installation included."),
        In(20, "Sounds good. Can I keep my current router?"),
        Out(18, "thandi", DELIVERED, "Yes, your router supports it. Shall I process the upgrade?"),
        In(2, "Yes please, go ahead."),
    )),
    Script("sipho", "Sales", 8, agent="thandi", steps=(
        In(8, "Good morning, do you deliver to Pietermaritzburg?"),
        Out(6, "thandi", SENT, "Morning Sipho! Yes, we deliver countrywide in 3 to 5 "
            "working days."),
    )),
    Script("emma", "Support", 40, agent="aisha", steps=(
        In(40, "Hello, I want to buy 20 licences for my office. Who can help?"),
        Out(38, "aisha", READ, "Hi Emma, our Sales team handles that. Let me transfer you."),
        Transfer(37, by="naledi", to="pieter", department="Sales"),
        Out(35, "pieter", DELIVERED, "Hi Emma, Pieter from Sales. For 20 licences we can offer "
            "a 15% volume discount."),
        In(30, "Great, please send me a quote."),
    )),
    Script("kagiso", "Support", 15, agent="james", steps=(
        In(15, "My order #48213 hasn't arrived after two weeks. I want a refund."),
        Out(13, "james", FAILED, "Sorry to hear that, Kagiso. Let me check the courier's "
            "tracking for you."),
        Out(12, "james", DELIVERED, "Sorry to hear that, Kagiso. Let me check the courier's "
            "tracking for you."),
        In(10, "Please hurry, I need it by Friday."),
        Note(9, "naledi", "@james the customer wants a refund: check with the courier first "
             "and offer a replacement before refunding.", mentions=("james",)),
    )),
    Script("fatima", "Support", 5, agent="aisha", steps=(
        In(5, "Hi, the app keeps logging me out on my phone."),
        Out(4, "aisha", READ, "Hi Fatima, sorry about that! Which phone and app version?"),
        In(3, "Samsung A54, version 3.2.1"),
    )),
    # The Closed tab. Lerato's earlier chat: its contact window shut long ago.
    Script("lerato", "Sales", 3 * DAY + 60, agent="thandi", steps=(
        In(3 * DAY + 60, "Hi, what are your opening hours on Saturday?"),
        Out(3 * DAY + 58, "thandi", READ, "Hi Lerato, we're open from 08:00 to 13:00 on "
            "Saturdays."),
        In(3 * DAY + 55, "Thanks!"),
        Close(3 * DAY + 50, ClosedBy.AGENT, by="thandi"),
    )),
    Script("johan", "Sales", 2 * HOUR, agent="pieter", steps=(
        In(2 * HOUR, "Is the Samsung S24 in stock at your Menlyn store?"),
        Out(117, "pieter", DELIVERED, "Hi Johan, yes: we have four in stock at Menlyn."),
        In(110, "Perfect, I'll pop in later. Thanks, bye!"),
        Close(110, ClosedBy.CONTACT),
    )),
    # The Tickets tab: unassigned, assigned, closed.
    Script("zanele", "Support", 12 * HOUR, ticket_reason="out_of_hours", steps=(
        In(12 * HOUR, "Hi, I was charged twice on invoice INV-20931. Please help."),
        AutoReply(12 * HOUR),
    )),
    Script("david", "Support", 20 * HOUR, ticket_reason="nobody_online", steps=(
        In(20 * HOUR, "Hello, our card machine stopped working. Can someone call me back "
           "tomorrow morning?"),
        AutoReply(20 * HOUR),
        Assign(HOUR, by="naledi", to="aisha"),
        Note(58, "naledi", "Business account with three card machines: please call back "
             "before noon."),
        Out(40, "aisha", DELIVERED, "Good morning David, this is Aisha from Support. I'll call "
            "you within 30 minutes."),
    )),
    Script("nomsa", "Support", 3 * DAY + 2 * HOUR, ticket_reason="out_of_hours", steps=(
        In(3 * DAY + 2 * HOUR, "Can I move my fibre installation appointment?"),
        AutoReply(3 * DAY + 2 * HOUR),
        Accept(2 * DAY + 3 * HOUR, by="james"),
        # Past the contact window: only an approved template may go out.
        Out(2 * DAY + 2 * HOUR, "james", READ, template="appointment_reminder",
            variables=("Nomsa", "Thursday", "10:00")),
        In(2 * DAY + HOUR, "YES"),
        Close(2 * DAY, ClosedBy.AGENT, by="james"),
    )),
)
# fmt: on


def seed_sample_chats(
    *,
    channel: Channel,
    departments: Mapping[str, Department],
    users: Mapping[str, User],
    contacts: Mapping[str, Contact],
    templates: Mapping[str, Template],
) -> list[Chat]:
    """Play every script on ``channel``, oldest first (a contact's earlier chat is closed
    before the next one opens); the caller holds the transaction."""
    player = _Player(channel, departments, users, contacts, templates)
    return [player.play(script) for script in sorted(SCRIPTS, key=lambda s: -s.started)]


class _Player:
    def __init__(
        self,
        channel: Channel,
        departments: Mapping[str, Department],
        users: Mapping[str, User],
        contacts: Mapping[str, Contact],
        templates: Mapping[str, Template],
    ) -> None:
        self.channel = channel
        self.departments = departments
        self.users = users
        self.contacts = contacts
        self.templates = templates
        self.now = clock.now()

    def at(self, ago: int) -> datetime:
        return self.now - timedelta(minutes=ago)

    def play(self, script: Script) -> Chat:
        started = self.at(script.started)
        department = self.departments[script.department]
        chat = Chat(
            channel=self.channel,
            contact=self.contacts[script.contact],
            department=department,
            created_at=started,
            status=ChatStatus.OPEN,
        )
        if script.agent is not None:
            chat.kind = ChatKind.CHAT
            chat.agent = self.users[script.agent]
            chat.assigned_at = started + timedelta(seconds=2)
        else:
            chat.kind, chat.ticket_state = ChatKind.TICKET, TicketState.UNASSIGNED
        chat.save()
        self.event(chat, EventKind.CREATED, started, None)
        if chat.agent is not None and chat.assigned_at is not None:
            self.event(
                chat,
                EventKind.ASSIGNED,
                chat.assigned_at,
                None,
                agent_id=chat.agent.pk,
                department_id=department.pk,
            )
        else:
            self.event(chat, EventKind.TICKETED, started, None, reason=script.ticket_reason)
        for step in script.steps:
            self.step(chat, step, ticket_reason=script.ticket_reason)
        chat.save()
        return chat

    def step(self, chat: Chat, step: Step, *, ticket_reason: str = "") -> None:
        when = self.at(step.ago)
        match step:
            case In(text=text):
                self.message(chat, when, Direction.IN, text=text)
                chat.last_inbound_at = when
            case Out(by=by, status=status, text=text, template=name, variables=variables):
                template = self.templates[name] if name else None
                if template is not None:
                    text = PLACEHOLDER.sub(lambda m: variables[int(m.group(1)) - 1], template.body)
                author = self.users[by]
                self.message(
                    chat,
                    when,
                    Direction.OUT,
                    text=text,
                    author=author,
                    status=status,
                    template=template,
                    variables=list(variables),
                )
                if chat.first_response_at is None and status != FAILED:
                    chat.first_response_at = when
                if template is not None:
                    self.event(chat, EventKind.REENGAGED, when, author, template=template.name)
            case AutoReply():
                self.message(
                    chat,
                    when + timedelta(seconds=2),
                    Direction.OUT,
                    status=DELIVERED,
                    # The reply routing would have sent for the ticket's reason.
                    text=self.channel.out_of_hours_reply
                    if ticket_reason == "out_of_hours"
                    else self.channel.nobody_available_reply,
                    automatic=True,
                )
            case Transfer(by=by, to=to, department=name):
                old, new, department = chat.agent, self.users[to], self.departments[name]
                chat.agent, chat.department, chat.assigned_at = new, department, when
                self.event(
                    chat,
                    EventKind.TRANSFERRED,
                    when,
                    self.users[by],
                    from_agent_id=old.pk if old else None,
                    to_agent_id=new.pk,
                    to_department_id=department.pk,
                )
                self.notify(new, NotificationKind.TRANSFERRED, chat, when)
            case Assign(by=by, to=to):
                agent = self.users[to]
                chat.ticket_state, chat.agent, chat.assigned_at = TicketState.ASSIGNED, agent, when
                self.event(chat, EventKind.ASSIGNED, when, self.users[by], agent_id=agent.pk)
                self.notify(agent, NotificationKind.ASSIGNED, chat, when)
            case Accept(by=by):
                agent = self.users[by]
                chat.ticket_state, chat.agent, chat.assigned_at = TicketState.ASSIGNED, agent, when
                self.event(chat, EventKind.TICKET_ACCEPTED, when, agent, agent_id=agent.pk)
            case Note(by=by, body=body, mentions=mentions):
                self.comment(chat, when, self.users[by], body, [self.users[u] for u in mentions])
            case Close(closed_by=closed_by, by=by):
                closer = self.users[by] if by else None
                chat.status, chat.closed_at = ChatStatus.CLOSED, when
                chat.closed_by, chat.closed_by_user = closed_by, closer
                if chat.kind == ChatKind.TICKET:
                    chat.ticket_state = TicketState.CLOSED
                self.event(chat, EventKind.CLOSED, when, closer, closed_by=closed_by)

    def message(
        self,
        chat: Chat,
        when: datetime,
        direction: str,
        *,
        text: str,
        author: User | None = None,
        status: str | None = None,
        template: Template | None = None,
        variables: list[str] | None = None,
        automatic: bool = False,
    ) -> None:
        failed = status == FAILED
        # How far delivery got: sent, then delivered, then read.
        reached = {SENT: 1, DELIVERED: 2, READ: 3}.get(DeliveryStatus(status), 0) if status else 0
        Message.objects.create(
            chat=chat,
            channel=self.channel,
            direction=direction,
            content_type=ContentType.TEMPLATE if template else ContentType.TEXT,
            text=text,
            template=template,
            template_variables=variables or [],
            author=author,
            is_automatic=automatic,
            status=status,
            error_code="undeliverable" if failed else "",
            error_reason="The handset could not be reached." if failed else "",
            provider_message_id=None if failed else f"demo-{uuid.uuid4().hex}",
            provider_timestamp=when if direction == Direction.IN else None,
            attempts=(3 if failed else 1) if direction == Direction.OUT else 0,
            created_at=when,
            sent_at=when + timedelta(seconds=2) if reached >= 1 else None,
            delivered_at=when + timedelta(seconds=5) if reached >= 2 else None,
            read_at=when + timedelta(seconds=40) if reached >= 3 else None,
            failed_at=when + timedelta(seconds=30) if failed else None,
        )
        chat.last_message_at = max(filter(None, [chat.last_message_at, when]))

    def comment(
        self, chat: Chat, when: datetime, author: User, body: str, mentions: list[User]
    ) -> None:
        comment = Comment.objects.create(chat=chat, author=author, body=body, created_at=when)
        comment.mentions.set(mentions)
        self.event(chat, EventKind.COMMENTED, when, author, comment_id=comment.pk)
        for user in mentions:
            self.notify(user, NotificationKind.MENTION, chat, when, comment=comment)

    def notify(
        self,
        recipient: User,
        kind: str,
        chat: Chat,
        when: datetime,
        *,
        comment: Comment | None = None,
    ) -> None:
        Notification.objects.create(
            recipient=recipient, kind=kind, chat=chat, comment=comment, created_at=when
        )

    def event(self, chat: Chat, kind: str, when: datetime, actor: User | None, **data: Any) -> None:
        ChatEvent.objects.create(chat=chat, kind=kind, actor=actor, data=data, created_at=when)
