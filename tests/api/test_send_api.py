"""POST /api/v1/chats/{id}/messages: the answer, the rows, and the delivery after commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from chatdesk.chats.models import Chat, Message
from chatdesk.core import clock
from chatdesk.providers.models import Template
from chatdesk.providers.tasks import deliver_message
from tests.support.webhooks import post_whatsapp, wa_payload, wa_text

# alice_on_duty: autouse where these tests lived before (tests/messaging).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alice_on_duty")]


def test_reply_is_201_queued_and_delivered_by_the_worker(
    wa_live, alice, api_as, fake_graph, online, django_capture_on_commit_callbacks
):
    online(alice)
    now = int(clock.now().timestamp())
    post_whatsapp(Client(), wa_live, wa_payload(wa_text("Where is my parcel?", "wamid.IN1", now)))
    chat = Chat.objects.get()
    assert chat.agent == alice  # routed to the only agent online
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(alice).post(f"/chats/{chat.pk}/messages", {"text": "On its way!"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["direction"], body["status"], body["text"], body["author_id"]) == (
        "out",
        "queued",
        "On its way!",
        alice.pk,
    )
    assert fake_graph.sent == []  # nothing leaves inside the request
    # The task queued after commit, run as the worker would run it.
    (queued,) = DBTaskResult.objects.filter(task_path__endswith="deliver_message")
    assert queued.args_kwargs["args"] == [body["id"]]
    assert deliver_message.call(*queued.args_kwargs["args"]) == "sent"
    message = Message.objects.get(pk=body["id"])
    assert message.status == "sent"
    assert fake_graph.sent[0]["text"]["body"] == "On its way!"
    assert fake_graph.sent[0]["to"] == "27821234567"


def test_free_text_outside_the_window_is_409_with_the_reason(wa_live, carol, alice, api_as):
    chat = Chat.objects.create(
        channel=wa_live,
        contact=carol,
        agent=alice,
        created_at=clock.now(),
        last_inbound_at=clock.now() - timedelta(hours=25),
    )
    response = api_as(alice).post(f"/chats/{chat.pk}/messages", {"text": "Hello again"})
    assert response.status_code == 409
    assert "24 hours" in response.json()["detail"]
    assert Message.objects.count() == 0


def test_template_with_wrong_variable_count_is_400(wa_live, carol, alice, api_as):
    chat = Chat.objects.create(channel=wa_live, contact=carol, agent=alice, created_at=clock.now())
    template = Template.objects.create(
        channel=wa_live, name="order_update", status="approved", body="Hi {{1}}, order {{2}}"
    )
    response = api_as(alice).post(
        f"/chats/{chat.pk}/messages", {"template_id": template.pk, "variables": ["Carol"]}
    )
    assert response.status_code == 400
    assert (
        response.json()["detail"] == "The template 'order_update' takes 2 variables; 1 were given."
    )
    ok = api_as(alice).post(
        f"/chats/{chat.pk}/messages", {"template_id": template.pk, "variables": ["Carol", "A-1"]}
    )
    assert ok.status_code == 201
    assert ok.json()["text"] == "Hi Carol, order A-1"
    assert ok.json()["template"]["name"] == "order_update"


def test_supervisor_gets_403_in_an_agents_live_chat(wa_live, carol, alice, sam, api_as):
    chat = Chat.objects.create(
        channel=wa_live,
        contact=carol,
        agent=alice,
        created_at=clock.now(),
        last_inbound_at=clock.now(),
    )
    response = api_as(sam).post(f"/chats/{chat.pk}/messages", {"text": "hi"})
    assert response.status_code == 403
    assert "comment" in response.json()["detail"]


def test_other_agents_chat_is_404_and_anonymous_401(wa_live, carol, alice, bob, api_as):
    chat = Chat.objects.create(channel=wa_live, contact=carol, agent=bob, created_at=clock.now())
    assert api_as(alice).post(f"/chats/{chat.pk}/messages", {"text": "hi"}).status_code == 404
    assert api_as(None).post(f"/chats/{chat.pk}/messages", {"text": "hi"}).status_code == 401
    assert api_as(alice).post("/chats/999999/messages", {"text": "hi"}).status_code == 404
    assert Message.objects.count() == 0


def test_neither_text_nor_template_is_400(wa_live, carol, alice, api_as):
    chat = Chat.objects.create(channel=wa_live, contact=carol, agent=alice, created_at=clock.now())
    response = api_as(alice).post(f"/chats/{chat.pk}/messages", {})
    assert response.status_code == 400
    assert "either text or a template_id" in response.json()["detail"]
