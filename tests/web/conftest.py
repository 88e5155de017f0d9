"""Fixtures of the page tests: signed-in clients and chats in every state."""

from __future__ import annotations

import pytest

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat
from chatdesk.providers.models import Channel
from tests.support import chats
from tests.support.chats import ChatMaker


@pytest.fixture
def make_chat(sandbox: Channel) -> ChatMaker:
    """``make_chat(phone, agent=alice, state="open"|"closed"|"unassigned"|"assigned"|
    "ticket_closed")``: a chat or ticket in that state on the sandbox channel."""

    def make(phone: str, *, name: str = "", agent: User | None = None, state: str = "open") -> Chat:
        return chats.make_chat(sandbox, phone, name=name, agent=agent, state=state)

    return make
