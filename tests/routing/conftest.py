"""Inbound messages that start chats (``make_online`` lives in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatdesk.chats.models import Chat, Message
from chatdesk.core import clock
from chatdesk.flows.inbound import receive_message
from chatdesk.providers.base import InboundMessage
from chatdesk.providers.models import Channel

_counter = iter(range(1, 1_000_000))


def write_in(channel: Channel, phone: str, text: str = "Hello", name: str = "") -> Message:
    message = receive_message(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"in-{next(_counter)}",
            from_phone=phone,
            timestamp=clock.now(),
            content_type="text",
            text=text,
            contact_name=name,
        ),
    )
    assert message is not None
    return message


@pytest.fixture
def customer_writes(sandbox: Channel) -> Callable[..., Chat]:
    """``customer_writes("+27821110001")``: a message on the sandbox; the chat it joined."""

    def write(phone: str, text: str = "Hello", channel: Channel | None = None) -> Chat:
        message = write_in(channel or sandbox, phone, text)
        return Chat.objects.get(pk=message.chat_id)

    return write


def phone(n: int) -> str:
    return f"+2782{n:07d}"
