"""Comments: internal notes on a chat, never sent to the contact. ``@username`` mentions
notify the users named, when they may see the chat."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models.functions import Lower

from chatdesk.accounts.models import User
from chatdesk.chats import access
from chatdesk.chats.models import Chat, Comment, Notification, NotificationKind
from chatdesk.chats.services import timeline
from chatdesk.core import clock
from chatdesk.core.errors import BadInput
from chatdesk.realtime import log as live_events

MAX_BODY = 4000

# A mention is "@" and a username as Django allows it (letters, digits and @.+-_), not
# glued to a word before it, so "bob@example.com" mentions nobody.
MENTION = re.compile(r"(?<![\w.@+-])@([\w.@+-]+)")


def add_comment(*, chat_id: int, body: str, by: User) -> Comment:
    """Add a comment to a chat the author may see, open or closed, chat or ticket.

    Everyone it mentions who is active and may see the chat is recorded as mentioned and
    gets a "mention" notification; other names stay plain text, and the author mentioning
    themselves is ignored. The comment, its notifications and the "commented" timeline
    event are written in one transaction.

    ``comment.created`` goes to those who may see the chat, and each mentioned user gets
    their own ``notification.created``, after the commit.
    """
    text = _checked_body(body)
    with transaction.atomic():
        # Locked so a transfer cannot change who may see the chat while mentions are decided.
        chat = access.chat_for(by, chat_id, for_update=True)
        mentioned = _mentionable(chat, mentioned_names(text), by=by)
        now = clock.now()
        comment = Comment.objects.create(chat=chat, author=by, body=text, created_at=now)
        comment.mentions.set(mentioned)
        notifications = [
            Notification.objects.create(
                recipient=user,
                kind=NotificationKind.MENTION,
                chat=chat,
                comment=comment,
                created_at=now,
            )
            for user in mentioned
        ]
        live_events.comment_created(comment, [user.pk for user in mentioned])
        for notification in notifications:
            live_events.notification_created(notification)
        timeline.record_commented(
            chat=chat,
            by=by,
            comment_id=comment.pk,
            mentions=[user.pk for user in mentioned],
        )
    return comment


def _checked_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise BadInput("A comment cannot be empty.")
    if len(text) > MAX_BODY:
        raise BadInput(f"A comment can be at most {MAX_BODY} characters; this one has {len(text)}.")
    return text


def mentioned_names(body: str) -> list[tuple[str, str]]:
    """The ``@username`` tokens of a comment, in order, without the "@": each as written
    and without trailing periods, which usually end the sentence ("@alice." is alice)."""
    return [(name, name.rstrip(".")) for name in MENTION.findall(body)]


def _mentionable(chat: Chat, names: list[tuple[str, str]], *, by: User) -> list[User]:
    """The active users named, besides the author, who may see the chat, by id.

    Usernames are unique whatever their case, so "@Alice" is alice. A name as written
    wins over the name without its trailing periods: "@j.r." is "j.r." if that user
    exists, else "j.r"."""
    keys = {key.lower() for pair in names for key in pair if key}
    if not keys:
        return []
    found = {
        user.username.lower(): user
        for user in User.objects.annotate(name_key=Lower("username")).filter(
            name_key__in=keys, is_active=True
        )
    }
    named: dict[int, User] = {}
    for written, bare in names:
        user = found.get(written.lower()) or found.get(bare.lower())
        if user is not None and user.pk != by.pk:
            named[user.pk] = user
    may_see = set(access.users_who_may_see(chat).filter(pk__in=named).values_list("pk", flat=True))
    return [named[pk] for pk in sorted(named) if pk in may_see]
