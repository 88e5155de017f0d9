"""The agent's read marker: unread counts the contact's messages since the agent last read
the chat; a supervisor watching never moves it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat
from chatdesk.chats.queries import with_unread
from chatdesk.flows.inbound import receive_message
from chatdesk.providers.base import InboundMessage
from chatdesk.providers.models import Channel

_ids = iter(range(1, 1_000_000))


def writes(channel: Channel, text: str) -> Chat:
    message = receive_message(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"read-{next(_ids)}",
            from_phone="+27820001111",
            timestamp=datetime.now(UTC),
            content_type="text",
            text=text,
        ),
    )
    assert message is not None
    return Chat.objects.get(pk=message.chat_id)


def unread(chat: Chat) -> int:
    return int(with_unread(Chat.objects.filter(pk=chat.pk)).get().unread)  # type: ignore[attr-defined]


def test_unread_counts_from_the_agents_last_read_and_supervisors_never_move_it(
    sandbox: Channel, alice: User, sam: User, online: Any, api_as: Any
) -> None:
    online(alice)
    chat = writes(sandbox, "one")
    writes(sandbox, "two")
    assert chat.agent_id == alice.pk
    assert unread(chat) == 2

    answer = api_as(sam).post(f"/chats/{chat.pk}/read")
    assert (answer.status_code, answer.json()) == (200, {"marked": False})
    assert unread(chat) == 2

    answer = api_as(alice).post(f"/chats/{chat.pk}/read")
    assert (answer.status_code, answer.json()) == (200, {"marked": True})
    assert unread(chat) == 0
    writes(sandbox, "three")
    assert unread(chat) == 1


def test_an_agent_cannot_mark_a_chat_they_cannot_see(
    sandbox: Channel, alice: User, bob: User, online: Any, api_as: Any
) -> None:
    online(alice)
    chat = writes(sandbox, "hello")
    answer = api_as(bob).post(f"/chats/{chat.pk}/read")
    assert answer.status_code == 404
    assert "No chat" in answer.json()["detail"]
    assert unread(chat) == 1
