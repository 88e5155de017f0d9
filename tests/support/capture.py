"""Who receives which live event, without sockets: ``capture_live_events(alice, sam)``
opens a live connection for each user (the Connection row a socket opens, so presence and
routing see them as a socket would make them) and returns an ``Inbox`` per user. An
inbox reads what the sequencer numbered since it opened and keeps what its user may see,
by the rule the socket hub applies (``chats.access``): ``can_see`` for the user's viewer,
re-addressed at a ``user.changed`` event, closed when the user is deactivated.

The tests of the wire itself (replay, ordering across processes, closing, back-pressure)
open real sockets; this is for the many that only ask who gets what. It is the one place
in the tests that knows how the hub addresses events (``chatdesk.realtime.log`` and
``chatdesk.chats.access``); if that moves, only the imports below change.
"""

from __future__ import annotations

import uuid
from typing import Any

from channels.db import database_sync_to_async

from chatdesk.accounts.models import User
from chatdesk.chats.access import Viewer, can_see, viewer_for, viewer_from
from chatdesk.flows import presence as presence_flow
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import LiveEvent, LiveEventType

Frame = dict[str, Any]


class Inbox:
    """One user's live connection, as the hub would feed it."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.channel_name = f"capture!{uuid.uuid4().hex}"
        presence_flow.connection_opened(user=user, channel_name=self.channel_name, instance="tests")
        # Subscribed after the connection opened, as the consumer does.
        self.viewer: Viewer | None = viewer_for(user)
        self.last = live_events.latest_seq()
        self.closed = False

    def take(self) -> list[Frame]:
        """Every frame its user would have been sent since the last ``take``: numbered
        events in ``seq`` order that the viewer may see (the internal ones never)."""
        received: list[Frame] = []
        rows = LiveEvent.objects.filter(seq__gt=self.last).order_by("seq")
        for row in rows:
            assert row.seq is not None
            self.last = row.seq
            if self.closed:
                continue
            event = live_events.as_dict(row)
            if event["type"] == LiveEventType.USER_CHANGED:
                if event["user_id"] == self.user.pk:
                    self.viewer = viewer_from(event["data"])
                    self.closed = not self.viewer.is_active  # a deactivated user's socket ends
                continue
            if self.viewer is not None and can_see(self.viewer, event):
                received.append(dict(live_events.frame(event)))
        return received

    def close(self) -> None:
        presence_flow.connection_closed(channel_name=self.channel_name)

    # The async side, for scenarios written against sockets (``tests.support.live``).

    async def receive(self) -> list[Frame]:
        frames: list[Frame] = await database_sync_to_async(self.take)()
        return frames

    async def disconnect(self) -> None:
        await database_sync_to_async(self.close)()


def capture_live_events(*users: User) -> list[Inbox]:
    """An inbox per user, open from now on (``inbox.take()`` for its frames)."""
    return [Inbox(user) for user in users]
