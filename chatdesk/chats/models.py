"""The conversation model: contacts, chats (live chats and tickets), messages, comments,
notifications and the permanent chat timeline. (Past 400 lines: one Django app's models live
in one module, most of the length being the constraints the database enforces.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


def _valid(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": [c.value for c in choices]})


class Contact(models.Model):
    """The end-user, known by a phone number in E.164 form, by the provider's user id
    (WhatsApp's business-scoped user id, BSUID, for a user who chose a username and may
    hide their number), by a web visitor id, or by several of them; and a display name."""

    phone = models.CharField(
        max_length=20, unique=True, null=True, blank=True, help_text="E.164, e.g. +27821234567"
    )
    provider_user_id = models.CharField(
        max_length=160,
        unique=True,
        null=True,
        blank=True,
        help_text="WhatsApp's business-scoped user id (BSUID), e.g. ZA.1234567890",
    )
    username = models.CharField(max_length=100, blank=True, help_text="WhatsApp username")
    visitor_id = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="Web chat visitor id"
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__isnull=True) | Q(phone__startswith="+"),
                name="contact_phone_e164",
            ),
            models.CheckConstraint(
                condition=Q(phone__isnull=False)
                | Q(provider_user_id__isnull=False)
                | Q(visitor_id__isnull=False),
                name="contact_has_an_identity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address})" if self.name else self.address

    @property
    def address(self) -> str:
        """How the desk shows who this is when there is no name: the phone number, else
        the username, else the provider's user id, else "Web visitor"."""
        if self.phone:
            return self.phone
        if self.username:
            return f"@{self.username}"
        return self.provider_user_id or "Web visitor"


class ContactOptOut(models.Model):
    """The contact said STOP on this channel: nothing may be sent there until they opt back in."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.ForeignKey(
        "providers.Channel", on_delete=models.CASCADE, related_name="opt_outs"
    )
    keyword = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "channel"], name="optout_once_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} opted out of {self.channel}"


class ChatKind(models.TextChoices):
    CHAT = "chat", "Chat"
    TICKET = "ticket", "Ticket"


class ChatStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class TicketState(models.TextChoices):
    UNASSIGNED = "unassigned", "Unassigned"
    ASSIGNED = "assigned", "Assigned"
    CLOSED = "closed", "Closed"


class ClosedBy(models.TextChoices):
    AGENT = "agent", "Agent"
    SUPERVISOR = "supervisor", "Supervisor"
    CONTACT = "contact", "Contact"
    SYSTEM = "system", "System"


class Chat(models.Model):
    """One conversation between a contact and the desk on one channel.

    A live chat (``kind=chat``) is ``open`` or ``closed``. A ticket (``kind=ticket``) is a
    chat that could not go to an agent live; its ``ticket_state`` moves
    unassigned → assigned → closed and can be reopened.
    """

    kind = models.CharField(max_length=8, choices=ChatKind.choices, default=ChatKind.CHAT)
    status = models.CharField(max_length=8, choices=ChatStatus.choices, default=ChatStatus.OPEN)
    ticket_state = models.CharField(
        max_length=12, choices=TicketState.choices, null=True, blank=True
    )
    channel = models.ForeignKey("providers.Channel", on_delete=models.PROTECT, related_name="chats")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="chats")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
    )
    department = models.ForeignKey(
        "routing.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
    )
    created_at = models.DateTimeField()
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while the chat waits for a free agent."
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=12, choices=ClosedBy.choices, null=True, blank=True)
    closed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_inbound_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The provider's timestamp of the contact's last message (the contact window).",
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    agent_read_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the chat's agent last read it: later inbound messages are unread. "
        "Supervisors watching never move it.",
    )
    continues = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="continued_by",
        help_text="The earlier chat whose re-engagement the contact answered by starting this one.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=_valid("kind", ChatKind), name="chat_kind_valid"),
            models.CheckConstraint(
                condition=_valid("status", ChatStatus), name="chat_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(closed_by__isnull=True) | _valid("closed_by", ClosedBy),
                name="chat_closed_by_valid",
            ),
            # A live chat has no ticket state; a ticket's state agrees with its status and agent.
            # (The explicit NOT NULL keeps SQL's NULL logic from letting a NULL state pass.)
            models.CheckConstraint(
                condition=(Q(kind=ChatKind.CHAT) & Q(ticket_state__isnull=True))
                | (
                    Q(kind=ChatKind.TICKET, ticket_state__isnull=False)
                    & Q(ticket_state=TicketState.UNASSIGNED)
                    & Q(status=ChatStatus.OPEN)
                    & Q(agent__isnull=True)
                )
                | (
                    Q(kind=ChatKind.TICKET, ticket_state__isnull=False)
                    & Q(ticket_state=TicketState.ASSIGNED)
                    & Q(status=ChatStatus.OPEN)
                    & Q(agent__isnull=False)
                )
                | (
                    Q(kind=ChatKind.TICKET, ticket_state__isnull=False)
                    & Q(ticket_state=TicketState.CLOSED)
                    & Q(status=ChatStatus.CLOSED)
                ),
                name="chat_ticket_state_consistent",
            ),
            models.CheckConstraint(
                condition=Q(status=ChatStatus.OPEN, closed_at__isnull=True)
                | Q(status=ChatStatus.CLOSED, closed_at__isnull=False),
                name="chat_closed_at_iff_closed",
            ),
            models.UniqueConstraint(
                fields=["contact", "channel"],
                condition=Q(kind=ChatKind.TICKET, status=ChatStatus.OPEN),
                name="chat_one_open_ticket_per_contact_channel",
            ),
            models.UniqueConstraint(
                fields=["contact", "channel"],
                condition=Q(kind=ChatKind.CHAT, status=ChatStatus.OPEN),
                name="chat_one_open_chat_per_contact_channel",
            ),
        ]
        indexes = [
            models.Index(
                fields=["agent", "-created_at"],
                condition=Q(status=ChatStatus.OPEN),
                name="chat_open_by_agent_idx",
            ),
            models.Index(
                fields=["ticket_state", "-created_at"],
                condition=Q(kind=ChatKind.TICKET),
                name="chat_ticket_by_state_idx",
            ),
            models.Index(fields=["kind", "status", "-created_at"], name="chat_tab_idx"),
            models.Index(
                fields=["department", "queued_at"],
                condition=Q(queued_at__isnull=False, status=ChatStatus.OPEN),
                name="chat_queue_idx",
            ),
            models.Index(fields=["contact", "-created_at"], name="chat_by_contact_idx"),
            # The API's pages keep to these orders, id breaking ties, so the first page of
            # a tab is read from the top of one index whatever the desk's size.
            models.Index(
                fields=["-closed_at", "-id"],
                condition=Q(kind=ChatKind.CHAT, status=ChatStatus.CLOSED),
                name="chat_closed_page_idx",
            ),
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(kind=ChatKind.TICKET),
                name="chat_ticket_page_idx",
            ),
            # The console's closed tickets, most recently closed first.
            models.Index(
                fields=["-closed_at", "-id"],
                condition=Q(kind=ChatKind.TICKET, ticket_state=TicketState.CLOSED),
                name="chat_closed_ticket_page_idx",
            ),
            # A department's unassigned tickets, oldest first: an agent's queue, counted
            # and cut without reading the whole desk's.
            models.Index(
                fields=["department", "created_at", "id"],
                condition=Q(kind=ChatKind.TICKET, ticket_state=TicketState.UNASSIGNED),
                name="chat_unassigned_by_dept_idx",
            ),
            # Per-agent counts of a tab (the summaries) from the index alone.
            models.Index(fields=["kind", "status", "agent"], name="chat_tab_agent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} with {self.contact}"


class ChatCount(models.Model):
    """How many chats share one key, kept by the database as rows to be added up.

    The supervisor's tabs count chats per agent; counting the chats themselves grows with
    the desk's whole history. Triggers on the chats table (``chatdesk/chats/counts.py``)
    add a row of +1 for the key a chat enters and -1 for the key it leaves, so concurrent
    writers never wait on a shared row; the worker's sweep folds them into one row per
    key. A count is the sum of its key's rows, exact before and after folding.

    The key is what the tabs and who-may-see-what need: kind, status and ticket state,
    the agent, and the department only for chats nobody holds (an agent sees their
    departments' unassigned tickets). The references carry no constraint: a row outlives
    the user or department it names until its sum, then zero, is folded away."""

    kind = models.CharField(max_length=8, choices=ChatKind.choices)
    status = models.CharField(max_length=8, choices=ChatStatus.choices)
    ticket_state = models.CharField(
        max_length=12, choices=TicketState.choices, null=True, blank=True
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    department = models.ForeignKey(
        "routing.Department",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    n = models.IntegerField(help_text="Chats added to the key (negative: taken from it).")

    def __str__(self) -> str:
        return f"{self.kind}/{self.status}/{self.ticket_state} agent {self.agent_id}: {self.n:+d}"


class Direction(models.TextChoices):
    IN = "in", "Inbound"
    OUT = "out", "Outbound"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


class ContentType(models.TextChoices):
    TEXT = "text", "Text"
    TEMPLATE = "template", "Template"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"
    DOCUMENT = "document", "Document"
    STICKER = "sticker", "Sticker"
    LOCATION = "location", "Location"
    CONTACTS = "contacts", "Contacts"
    INTERACTIVE = "interactive", "Interactive reply"
    BUTTON = "button", "Button reply"
    REACTION = "reaction", "Reaction"
    ORDER = "order", "Order"
    SYSTEM = "system", "Notice from the provider"
    UNSUPPORTED = "unsupported", "Unsupported"


class Message(models.Model):
    """One inbound or outbound message. Outbound ones carry a delivery status."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    # Repeated from the chat so the provider id can be unique per channel in the database.
    channel = models.ForeignKey(
        "providers.Channel", on_delete=models.PROTECT, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    content_type = models.CharField(
        max_length=16, choices=ContentType.choices, default=ContentType.TEXT
    )
    text = models.TextField(blank=True, help_text="The text, or a readable summary of media.")
    media = models.JSONField(default=dict, blank=True, help_text="Provider media ids and details.")
    template = models.ForeignKey(
        "providers.Template",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    template_variables = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    is_automatic = models.BooleanField(default=False, help_text="An auto-reply of the desk.")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_reason = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=128, null=True, blank=True)
    provider_timestamp = models.DateTimeField(null=True, blank=True)
    # Outbound delivery bookkeeping: how many sends were tried, when the next may run, and
    # since when one is in flight (claimed by a worker and not yet answered).
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    in_flight_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=_valid("direction", Direction), name="message_direction_valid"
            ),
            models.CheckConstraint(
                condition=_valid("content_type", ContentType), name="message_content_type_valid"
            ),
            models.CheckConstraint(
                condition=(Q(direction=Direction.IN) & Q(status__isnull=True))
                | (
                    Q(direction=Direction.OUT, status__isnull=False)
                    & _valid("status", DeliveryStatus)
                ),
                name="message_status_valid",
            ),
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=Q(provider_message_id__isnull=False),
                name="message_provider_id_unique_per_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["chat", "created_at", "id"], name="message_chat_time_idx"),
            models.Index(
                fields=["created_at"],
                condition=Q(direction=Direction.OUT, status=DeliveryStatus.QUEUED),
                name="message_outbox_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} #{self.pk} in chat {self.chat_id}"


class Comment(models.Model):
    """An internal note on a chat, never sent to the contact; may @-mention users."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    body = models.TextField()
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["chat", "created_at"], name="comment_chat_time_idx")]

    def __str__(self) -> str:
        return f"Comment #{self.pk} on chat {self.chat_id}"


class NotificationKind(models.TextChoices):
    MENTION = "mention", "Mentioned in a comment"
    ASSIGNED = "assigned", "A chat was assigned to you"
    TRANSFERRED = "transferred", "A chat was transferred to you"
    # Someone else gave a chat of yours to another agent.
    REASSIGNED = "reassigned", "A chat of yours went to another agent"
    # A sweep handed one of the recipient's chats on; the kind is the reason.
    DISCONNECTED = "disconnected", "Your chat went to others: you were disconnected"
    UNANSWERED = "unanswered", "Your chat went to another agent: its first message was unanswered"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="notifications")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # Who did what the notification tells of (an assignment's supervisor), and the note
    # they wrote with it.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(blank=True, default="")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_valid("kind", NotificationKind), name="notification_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient}"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    QUEUED = "queued", "Queued"
    ASSIGNED = "assigned", "Assigned"
    TRANSFERRED = "transferred", "Transferred"
    TICKETED = "ticketed", "Became a ticket"
    TICKET_ACCEPTED = "ticket_accepted", "Ticket accepted"
    COMMENTED = "commented", "Commented"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"
    REENGAGED = "reengaged", "Re-engaged"
    REENGAGEMENT_REPLY = "reengagement_reply", "Reply to a re-engagement"
    OPTED_OUT = "opted_out", "Contact opted out"
    OPTED_IN = "opted_in", "Contact opted back in"


class ChatEvent(models.Model):
    """The permanent audit timeline of a chat: what happened, who did it, when."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the contact or the system did it.",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=_valid("kind", EventKind), name="chatevent_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["chat", "created_at", "id"], name="chatevent_chat_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on chat {self.chat_id}"
