"""Customers WhatsApp knows by a business-scoped user id (BSUID) and a username, with no
phone number: they open and join chats, the agent's reply goes back to the id, a later
message carrying both links them to one contact, and Meta's number and user-id change
notices update the contact.

The payloads are written here in the shapes of Meta's "Business-scoped user IDs" page of
the WhatsApp Business Platform documentation (``from_user_id`` on the message,
``contacts[].user_id`` and ``profile.username``, no ``from`` or ``wa_id`` when the number
is withheld) and its messages webhook reference (``system`` messages
``user_changed_number`` and ``user_changed_user_id``).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chatdesk.chats.models import Chat, ChatStatus, Contact, ContactOptOut, Message
from chatdesk.chats.services.outbound import Reply
from chatdesk.core import clock
from chatdesk.flows.outbound import send_message
from chatdesk.providers.adapters import whatsapp
from chatdesk.providers.base import Outbound
from chatdesk.providers.tasks import deliver
from tests.support.webhooks import PHONE_NUMBER_ID, post_whatsapp

BSUID = "ZA.1502576394655843"
NEW_BSUID = "ZA.9988776655443322"


def bsuid_payload(*messages: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550001111",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": contacts,
                            "messages": list(messages),
                        },
                    }
                ],
            }
        ],
    }


def username_only(text: str, wamid: str, *, user_id: str = BSUID, later: int = 0):
    """A message from a user who withholds their number: no ``from``, no ``wa_id``."""
    message = {
        "from_user_id": user_id,
        "id": wamid,
        "timestamp": str(int(clock.now().timestamp()) + later),
        "type": "text",
        "text": {"body": text},
    }
    contact = {"profile": {"name": "Lerato", "username": "@lerato.m"}, "user_id": user_id}
    return bsuid_payload(message, contacts=[contact])


def with_both(text: str, wamid: str, *, phone: str = "27821234567", user_id: str = BSUID):
    message = {
        "from": phone,
        "from_user_id": user_id,
        "id": wamid,
        "timestamp": str(int(clock.now().timestamp()) + 100),
        "type": "text",
        "text": {"body": text},
    }
    contact = {"profile": {"name": "Lerato M"}, "wa_id": phone, "user_id": user_id}
    return bsuid_payload(message, contacts=[contact])


def system(wamid: str, body: dict[str, Any], sender: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": wamid,
        "timestamp": "1764000500",
        "type": "system",
        "system": body,
    }
    if sender:
        message["from"] = sender
    return bsuid_payload(message, contacts=[])


def test_a_username_only_customer_opens_a_chat_and_writes_again_into_it(wa_channel, alice):
    first = post_whatsapp(Client(), wa_channel, username_only("hi, my order?", "wamid.U1"))
    assert first.status_code == 200, first.content
    assert first.json()["stored"] == 1
    contact = Contact.objects.get()
    assert (contact.phone, contact.provider_user_id) == (None, BSUID)
    assert (contact.username, contact.name, contact.address) == ("lerato.m", "Lerato", "@lerato.m")
    chat = Chat.objects.get()
    assert (chat.contact_id, chat.agent_id, chat.status) == (contact.pk, alice.pk, ChatStatus.OPEN)
    assert chat.last_inbound_at is not None

    post_whatsapp(Client(), wa_channel, username_only("still there?", "wamid.U2", later=60))
    assert Chat.objects.count() == 1 and Contact.objects.count() == 1
    assert list(Message.objects.values_list("chat_id", flat=True)) == [chat.pk, chat.pk]


def test_the_agent_answers_a_username_only_customer_through_their_user_id(
    wa_live, alice, fake_graph
):
    post_whatsapp(Client(), wa_live, username_only("hello", "wamid.U3"))
    chat = Chat.objects.get()
    reply = send_message(chat_id=chat.pk, reply=Reply(text="Hi Lerato"), by=alice)
    assert deliver(reply.pk) == "sent"
    sent = fake_graph.last.json
    assert sent["recipient"] == BSUID
    assert "to" not in sent
    assert sent["text"]["body"] == "Hi Lerato"


def test_meta_is_sent_to_the_number_when_there_is_one_else_to_the_user_id():
    by_phone = whatsapp.request_body(Outbound(to_phone="+27821234567", to_user_id=BSUID, text="a"))
    assert (by_phone["to"], "recipient" in by_phone) == ("27821234567", False)
    by_id = whatsapp.request_body(Outbound(to_phone="", to_user_id=BSUID, text="a"))
    assert (by_id["recipient"], "to" in by_id) == (BSUID, False)


def test_a_later_message_with_number_and_user_id_links_them_on_one_contact(wa_channel):
    post_whatsapp(Client(), wa_channel, username_only("first", "wamid.L1"))
    post_whatsapp(Client(), wa_channel, with_both("second", "wamid.L2"))
    contact = Contact.objects.get()
    assert (contact.phone, contact.provider_user_id) == ("+27821234567", BSUID)
    assert Chat.objects.count() == 1
    assert Message.objects.filter(chat__contact=contact).count() == 2


def test_a_number_contact_and_a_user_id_contact_become_one_with_their_history(
    wa_channel, sms_channel, carol
):
    # Carol wrote by SMS long ago (her number), then on WhatsApp with her number hidden.
    old = Chat.objects.create(
        channel=sms_channel,
        contact=carol,
        status=ChatStatus.CLOSED,
        closed_at=clock.now(),
        created_at=clock.now(),
    )
    ContactOptOut.objects.create(contact=carol, channel=sms_channel, created_at=clock.now())
    post_whatsapp(Client(), wa_channel, username_only("it's me", "wamid.M1"))
    hidden = Contact.objects.get(provider_user_id=BSUID)
    assert hidden.pk != carol.pk
    hidden_chat = Chat.objects.get(contact=hidden)
    hidden_chat.status, hidden_chat.closed_at = ChatStatus.CLOSED, clock.now()
    hidden_chat.save()

    post_whatsapp(Client(), wa_channel, with_both("both now", "wamid.M2"))
    assert list(Contact.objects.values_list("pk", flat=True)) == [carol.pk]
    carol.refresh_from_db()
    assert (carol.phone, carol.provider_user_id, carol.username) == (
        "+27821234567",
        BSUID,
        "lerato.m",
    )
    assert set(Chat.objects.values_list("contact_id", flat=True)) == {carol.pk}
    assert Chat.objects.filter(pk__in=[old.pk, hidden_chat.pk], contact=carol).count() == 2
    assert ContactOptOut.objects.get().contact_id == carol.pk


def test_two_contacts_both_chatting_on_the_channel_stay_apart(wa_channel, carol):
    Chat.objects.create(channel=wa_channel, contact=carol, created_at=clock.now())
    post_whatsapp(Client(), wa_channel, username_only("hidden", "wamid.A1"))
    hidden = Contact.objects.get(provider_user_id=BSUID)
    post_whatsapp(Client(), wa_channel, with_both("both", "wamid.A2"))
    # Nothing is lost: the message joins the user id's chat, and both contacts remain.
    assert Contact.objects.count() == 2
    assert Message.objects.get(provider_message_id="wamid.A2").chat.contact_id == hidden.pk


def test_a_changed_user_id_moves_the_contact_and_shows_in_the_chat_without_moving_the_window(
    wa_channel,
):
    post_whatsapp(Client(), wa_channel, username_only("hi", "wamid.C1"))
    chat = Chat.objects.get()
    window_from = chat.last_inbound_at
    notice = system(
        "wamid.C2",
        {
            "body": f"User changed from {BSUID} to {NEW_BSUID}",
            "user_id": NEW_BSUID,
            "previous_user_id": BSUID,
            "type": "user_changed_user_id",
        },
    )
    response = post_whatsapp(Client(), wa_channel, notice)
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 1
    contact = Contact.objects.get()
    assert contact.provider_user_id == NEW_BSUID
    shown = Message.objects.get(provider_message_id="wamid.C2")
    assert (shown.chat_id, shown.content_type) == (chat.pk, "system")
    assert shown.text == f"User changed from {BSUID} to {NEW_BSUID}"
    chat.refresh_from_db()
    assert chat.last_inbound_at == window_from
    # The customer writes again under the new id: the same chat.
    post_whatsapp(Client(), wa_channel, username_only("again", "wamid.C3", user_id=NEW_BSUID))
    assert Chat.objects.count() == 1 and Contact.objects.count() == 1


def test_a_changed_number_moves_the_contact(wa_channel, carol):
    Chat.objects.create(
        channel=wa_channel,
        contact=carol,
        status=ChatStatus.CLOSED,
        closed_at=clock.now(),
        created_at=clock.now(),
    )
    notice = system(
        "wamid.N1",
        {
            "body": "User A changed from 27821234567 to 27827654321",
            "wa_id": "27827654321",
            "type": "user_changed_number",
        },
        sender="27821234567",
    )
    response = post_whatsapp(Client(), wa_channel, notice)
    assert response.json()["stored"] == 1
    carol.refresh_from_db()
    assert carol.phone == "+27827654321"
    # Shown in her latest chat, which stays closed: a notice starts no chat.
    assert Chat.objects.get().status == ChatStatus.CLOSED
    assert Message.objects.get().content_type == "system"


def test_a_notice_about_someone_with_no_chat_here_changes_the_contact_and_stores_nothing(
    wa_channel, carol
):
    notice = system(
        "wamid.N2",
        {"body": "changed", "wa_id": "27827654321", "type": "user_changed_number"},
        sender="27821234567",
    )
    response = post_whatsapp(Client(), wa_channel, notice)
    assert response.status_code == 200
    assert (response.json()["stored"], response.json()["notices"]) == (0, 1)
    carol.refresh_from_db()
    assert carol.phone == "+27827654321"
    assert Message.objects.count() == Chat.objects.count() == 0


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"id": "wamid.X1", "timestamp": "1", "type": "text", "text": {"body": "x"}}, "no 'from'"),
        (
            {
                "from_user_id": "ZA." + "9" * 200,
                "id": "wamid.X2",
                "timestamp": "1",
                "type": "text",
                "text": {"body": "x"},
            },
            "user id is longer than 160",
        ),
    ],
)
def test_a_message_with_no_usable_sender_is_kept_for_the_admins(wa_channel, message, reason):
    from chatdesk.providers.models import ProviderEvent

    response = post_whatsapp(Client(), wa_channel, bsuid_payload(message, contacts=[]))
    assert response.status_code == 200
    assert response.json()["kept"] == 1
    assert reason in ProviderEvent.objects.get().reason
    assert Message.objects.count() == 0


def test_the_api_shows_the_new_identifiers_and_keeps_phone(wa_channel, alice, api_as):
    post_whatsapp(Client(), wa_channel, username_only("hello", "wamid.API1"))
    chat = Chat.objects.get()
    contact = api_as(alice).get(f"/chats/{chat.pk}").json()["contact"]
    assert contact == {
        "id": chat.contact_id,
        "phone": None,
        "name": "Lerato",
        "provider_user_id": BSUID,
        "username": "lerato.m",
        "email": "",
    }
    listed = api_as(alice).get("/chats").json()["items"][0]["contact"]
    assert listed == contact
