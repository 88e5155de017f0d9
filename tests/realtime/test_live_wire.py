"""The wire format of live events (``realtime.log``): every event type has a TypedDict for
its ``data``, every builder makes exactly that, and it survives JSON unchanged. Checked on
the builders' own output and on a log written by the services."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Comment, Message, Notification, NotificationKind
from chatdesk.chats.services.comments import add_comment
from chatdesk.flows import transfers
from chatdesk.providers.models import Channel
from chatdesk.realtime import log as live_log
from chatdesk.realtime import sequencer
from chatdesk.realtime.log import (
    ChatData,
    ChatFields,
    CommentData,
    LiveEnvelope,
    LiveFrame,
    MessageData,
    NotificationData,
    PresenceData,
    ViewerData,
)
from chatdesk.realtime.models import LiveEvent, LiveEventType
from chatdesk.routing.models import Department
from tests.support.live import Online, customer_writes, phone
from tests.support.mixed_log import build_a_mixed_log

realtime_db = pytest.mark.django_db(transaction=True)


def round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value))


def assert_shaped(data: Any, shape: Any, what: str) -> None:
    """``data`` has every key ``shape`` requires, and no key it does not name."""
    assert isinstance(data, dict), what
    keys = set(data)
    required, optional = set(shape.__required_keys__), set(shape.__optional_keys__)
    assert required <= keys, (what, sorted(required - keys))
    assert keys <= required | optional, (what, sorted(keys - required - optional))


def test_every_event_type_has_a_typed_data() -> None:
    assert set(live_log.DATA_OF) == set(LiveEventType.values)
    # The frame is CONTRACT.md's, and the envelope adds only the audience to it.
    assert set(LiveFrame.__required_keys__) == {"seq", "type", "chat_id", "data"}
    assert set(LiveEnvelope.__required_keys__) - set(LiveFrame.__required_keys__) == {
        "agent_id",
        "previous_agent_id",
        "department_id",
        "previous_department_id",
        "user_id",
        "everyone",
    }


@realtime_db
def test_each_builder_makes_its_typed_data_and_it_survives_json(
    sandbox: Channel, alice: User, sam: User, online: Online
) -> None:
    online(alice)
    inbound = customer_writes(sandbox, phone(40), "Hello, is anyone there?")
    chat = Chat.objects.select_related("contact", "channel").get(pk=inbound.chat_id)
    message = Message.objects.select_related("template").get(pk=inbound.pk)
    comment = add_comment(chat_id=chat.pk, body="@alice please look", by=sam)
    comment = Comment.objects.get(pk=comment.pk)
    notification = Notification.objects.get(comment=comment, kind=NotificationKind.MENTION)

    built: list[tuple[str, Any, Any]] = [
        ("chat", sequencer.chat_data(chat), ChatData),
        ("message", live_log.message_data(message), MessageData),
        ("comment", live_log.comment_data(comment, [alice.pk]), CommentData),
        ("notification", live_log.notification_data(notification), NotificationData),
        ("presence", live_log.presence_data(alice, online=True), PresenceData),
        ("viewer", live_log.viewer_data(alice), ViewerData),
    ]
    for what, data, shape in built:
        assert round_trip(data) == data, what
        assert_shaped(round_trip(data), shape, what)
    # Required keys only, here: what the builders add beyond them is the service's.
    assert set(sequencer.chat_data(chat)) == set(ChatFields.__required_keys__)

    event = LiveEvent.objects.filter(type=LiveEventType.MESSAGE_CREATED).latest("seq")
    envelope = live_log.as_dict(event)
    assert round_trip(envelope) == envelope
    assert set(envelope) == set(LiveEnvelope.__required_keys__)
    assert round_trip(live_log.frame(envelope)) == {
        "seq": event.seq,
        "type": "message.created",
        "chat_id": chat.pk,
        "data": event.data,
    }


@realtime_db
def test_every_event_the_services_write_has_its_typed_data(
    sandbox: Channel,
    support: Department,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    online: Online,
) -> None:
    support_line = Channel.objects.create(kind="sandbox", name="Support line", department=support)
    build_a_mixed_log(sandbox, support_line, alice, bob, dave, sam, online)
    # A transfer with a note adds its own field.
    live = customer_writes(sandbox, phone(41), "One more").chat
    transfers.assign_chat(
        chat_id=live.pk, target=transfers.Target(agent_id=bob.pk, note="VIP"), by=sam
    )
    rows = list(LiveEvent.objects.filter(seq__isnull=False).order_by("seq"))
    assert {row.type for row in rows} == set(LiveEventType.values)
    for row in rows:
        frame = round_trip(live_log.frame(live_log.as_dict(row)))
        assert set(frame) == {"seq", "type", "chat_id", "data"}
        assert frame["data"] == row.data, row
        assert_shaped(frame["data"], live_log.DATA_OF[row.type], f"{row.seq} {row.type}")
    notes = [row.data.get("note") for row in rows if row.type == LiveEventType.CHAT_ASSIGNED]
    assert "VIP" in notes
