"""Inbound messages that start chats (``write_in`` and ``make_online`` live in
``tests.support``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatdesk.chats.models import Chat
from chatdesk.providers.models import Channel
from tests.support.chats import write_in


@pytest.fixture
def customer_writes(sandbox: Channel) -> Callable[..., Chat]:
    """``customer_writes("+27821110001")``: a message on the sandbox; the chat it joined."""

    def write(phone: str, text: str = "Hello", channel: Channel | None = None) -> Chat:
        message = write_in(channel or sandbox, phone, text)
        return Chat.objects.get(pk=message.chat_id)

    return write
