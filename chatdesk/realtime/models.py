"""The live-event log: every event sent over ``/ws/events``, kept for replay."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class LiveEventType(models.TextChoices):
    CHAT_CREATED = "chat.created"
    CHAT_ASSIGNED = "chat.assigned"
    CHAT_CLOSED = "chat.closed"
    CHAT_REOPENED = "chat.reopened"
    MESSAGE_CREATED = "message.created"
    MESSAGE_STATUS = "message.status"
    COMMENT_CREATED = "comment.created"
    NOTIFICATION_CREATED = "notification.created"
    PRESENCE_CHANGED = "presence.changed"
    # Internal, never sent to clients: a user's role, departments or active flag changed.
    # In the log so every hub applies it at its place in the order of events.
    USER_CHANGED = "user.changed"


INTERNAL_TYPES = frozenset({LiveEventType.USER_CHANGED.value})


class LiveEvent(models.Model):
    """One live event. A service writes it in its own transaction with ``seq`` empty; right
    after the commit the sequencer numbers every pending event, in one short transaction
    that holds a lock until it commits, so ``seq`` runs 1, 2, 3, ... with no gap and a
    reader that sees event N has every event before it.

    Who may receive it is stored beside it (the same rule serves replay from this table
    and live delivery from memory; see ``chats.access``):

    - ``user_id`` set: that user alone (a notification);
    - otherwise ``everyone``: every signed-in user (presence);
    - otherwise supervisors and admins, the chat's agent (``agent_id``), the agent it was
      taken from (``previous_agent_id``), and the agents of ``department_id`` or
      ``previous_department_id`` when the chat is or was an unassigned ticket there.

    A chat's event is addressed when it is numbered, from the chat as committed: so the
    agent a new chat was routed to receives its first message, and a ``chat.*`` event
    carries the chat as it now is.
    """

    seq = models.BigIntegerField(null=True, unique=True)
    type = models.CharField(max_length=32, choices=LiveEventType.choices)
    chat_id = models.BigIntegerField(null=True)
    data = models.JSONField(default=dict)
    agent_id = models.BigIntegerField(null=True)
    previous_agent_id = models.BigIntegerField(null=True)
    department_id = models.BigIntegerField(null=True)
    previous_department_id = models.BigIntegerField(null=True)
    user_id = models.BigIntegerField(null=True)
    everyone = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            # The sequencer's and the sweep's read: events committed but not yet numbered.
            models.Index(fields=["id"], name="liveevent_pending", condition=Q(seq__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type}"
