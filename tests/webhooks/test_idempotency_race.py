"""The same webhook arriving several times at the same moment is stored once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from chatdesk.chats.models import Chat, ChatEvent, Contact, Message
from chatdesk.chats.queries import with_unread
from chatdesk.realtime.models import LiveEvent
from tests.support.webhooks import post_whatsapp, wa_payload, wa_text

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_duplicates_store_one_row_one_live_event_one_unread(wa_channel):
    payload = wa_payload(wa_text("only once", "wamid.RACE"))
    barrier = threading.Barrier(10)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(post_whatsapp(Client(), wa_channel, payload).status_code)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert statuses == [200] * 10
    # And once more, later: the provider retrying after a lost answer.
    assert post_whatsapp(Client(), wa_channel, payload).status_code == 200
    assert Message.objects.filter(provider_message_id="wamid.RACE").count() == 1
    assert Chat.objects.count() == 1
    assert Contact.objects.count() == 1
    assert ChatEvent.objects.filter(kind="created").count() == 1
    created = LiveEvent.objects.filter(type="message.created", seq__isnull=False)
    assert [event.data["text"] for event in created] == ["only once"]
    assert LiveEvent.objects.filter(type="chat.created").count() == 1
    assert LiveEvent.objects.filter(seq__isnull=True).count() == 0
    assert with_unread(Chat.objects.all()).get().unread == 1  # type: ignore[attr-defined]


def test_parallel_first_messages_from_one_contact_share_one_chat(wa_channel):
    barrier = threading.Barrier(5)
    errors: list[BaseException] = []

    def deliver(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            payload = wa_payload(wa_text(f"message {index}", f"wamid.P{index}"))
            assert post_whatsapp(Client(), wa_channel, payload).status_code == 200
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert Message.objects.filter(direction="in").count() == 5
    assert Chat.objects.count() == 1
