"""A chat that answers a re-engagement shows, above its own messages, the earlier
conversation it continues (the follow-up marked), to whoever may see the new chat; the
link to the earlier chat only to those who may see that one too."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from chatdesk.accounts.models import Presence, User
from chatdesk.chats.models import Chat
from chatdesk.chats.services.outbound import Reply
from chatdesk.flows import lifecycle
from chatdesk.flows.outbound import send_message
from chatdesk.providers.models import Channel
from tests.support.chats import write_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+27825550202"


def page_of(user: User, path: str) -> tuple[int, str]:
    browser = Client()
    browser.force_login(user)
    response = browser.get(path)
    return response.status_code, response.content.decode()


@pytest.fixture
def continued(
    sandbox: Channel, alice: User, bob: User, online: Callable[..., User]
) -> tuple[Chat, Chat, int]:
    """Alice served and closed a chat and followed it up; she is away when the customer
    answers, so bob gets the new chat."""
    online(alice)
    earlier = Chat.objects.get(
        pk=write_in(sandbox, PHONE, "Is parcel PX-1042 there?", name="Lerato Mokoena").chat_id
    )
    lifecycle.close_chat(chat_id=earlier.pk, by=alice)
    followup = send_message(
        chat_id=earlier.pk, reply=Reply(text="PX-1042 arrived <b>today</b>"), by=alice
    ).pk
    online(bob)
    User.objects.filter(pk=alice.pk).update(presence=Presence.AWAY)
    chat = Chat.objects.get(pk=write_in(sandbox, PHONE, "Great, I'll collect it").chat_id)
    assert (chat.agent_id, chat.continues_id) == (bob.pk, earlier.pk)
    return earlier, chat, followup


def test_the_new_chats_holder_sees_the_earlier_conversation_above_the_reply(
    continued: tuple[Chat, Chat, int], bob: User
) -> None:
    earlier, chat, followup = continued
    status, html = page_of(bob, f"/chats/{chat.pk}/panel/")
    assert status == 200
    assert "Earlier conversation" in html
    assert "answered a follow-up from Alice Agent" in html
    section = html[html.index("cdp-earlier-conversation") : html.index("This chat</span>")]
    assert "Is parcel PX-1042 there?" in section
    assert "PX-1042 arrived &lt;b&gt;today&lt;/b&gt;" in section  # customer-safe: escaped
    assert f'cdp-msg-out cdp-msg-reengagement" id="cdp-msg-{followup}"' in section
    # The reply itself comes after the earlier conversation.
    assert html.index("This chat</span>") < html.index("Great, I&#x27;ll collect it")
    # Bob may not open alice's closed chat: no link to it, and it stays not found.
    assert f"/chats/{earlier.pk}/" not in html
    assert page_of(bob, f"/chats/{earlier.pk}/panel/")[0] == 404
    # The transcript's own refresh keeps it.
    status, fragment = page_of(bob, f"/chats/{chat.pk}/panel/transcript/")
    assert status == 200 and "Earlier conversation" in fragment


def test_a_supervisor_gets_the_link_and_others_see_nothing(
    continued: tuple[Chat, Chat, int], sam: User, alice: User, bob: User
) -> None:
    earlier, chat, _ = continued
    status, html = page_of(sam, f"/chats/{chat.pk}/panel/")
    assert status == 200
    assert f'href="/chats/{earlier.pk}/"' in html and "Open that chat" in html
    assert page_of(alice, f"/chats/{chat.pk}/panel/")[0] == 404  # not hers
    # The earlier chat continues nothing: its own panel shows no earlier conversation.
    status, html = page_of(sam, f"/chats/{earlier.pk}/panel/")
    assert status == 200 and "Earlier conversation" not in html
    # The timeline of the new chat names what it continues and who re-engaged.
    status, html = page_of(bob, f"/chats/{chat.pk}/panel/")
    assert f"continues chat {earlier.pk}, re-engaged by Alice Agent" in html
