"""POST /chats/bulk: one action on several chats, each through its single-chat service,
answered per chat (what was done, and why each refused one was refused)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, ChatStatus
from chatdesk.flows import bulk
from chatdesk.flows.inbound import receive_message
from chatdesk.providers.base import InboundMessage
from chatdesk.providers.models import Channel

_ids = iter(range(1, 1_000_000))


def writes(channel: Channel, phone: str, text: str = "Hello") -> Chat:
    message = receive_message(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"bulk-{next(_ids)}",
            from_phone=phone,
            timestamp=datetime.now(UTC),
            content_type="text",
            text=text,
        ),
    )
    assert message is not None
    return Chat.objects.get(pk=message.chat_id)


def test_a_supervisor_closes_several_chats_and_hears_why_one_was_refused(
    sandbox: Channel, alice: User, sam: User, online: Any, api_as: Any
) -> None:
    online(alice, capacity=5)
    first = writes(sandbox, "+27820002001")
    second = writes(sandbox, "+27820002002")
    closed = writes(sandbox, "+27820002003")
    api_as(sam).post(f"/chats/{closed.pk}/close")

    answer = api_as(sam).post(
        "/chats/bulk", {"action": "close", "chat_ids": [second.pk, first.pk, closed.pk]}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["action"] == "close"
    assert [chat["id"] for chat in body["done"]] == sorted([first.pk, second.pk])
    assert all(chat["status"] == "closed" for chat in body["done"])
    assert body["refused"] == [
        {"chat_id": closed.pk, "detail": body["refused"][0]["detail"], "status": 409}
    ]
    assert body["refused"][0]["detail"].endswith(".")
    assert Chat.objects.filter(pk__in=[first.pk, second.pk], status=ChatStatus.CLOSED).count() == 2

    reopened = api_as(sam).post("/chats/bulk", {"action": "reopen", "chat_ids": [first.pk]})
    assert reopened.status_code == 200
    assert [chat["status"] for chat in reopened.json()["done"]] == ["open"]


def test_a_supervisor_assigns_several_chats_to_one_agent(
    sandbox: Channel, alice: User, bob: User, sam: User, online: Any, api_as: Any
) -> None:
    online(alice, capacity=5)
    chats = [writes(sandbox, f"+2782000301{n}") for n in range(3)]
    online(bob, capacity=5)
    answer = api_as(sam).post(
        "/chats/bulk",
        {"action": "assign", "chat_ids": [c.pk for c in chats], "agent_id": bob.pk},
    )
    assert answer.status_code == 200, answer.text
    assert {chat["agent_id"] for chat in answer.json()["done"]} == {bob.pk}
    assert answer.json()["refused"] == []
    assert Chat.objects.filter(agent=bob).count() == 3

    neither = api_as(sam).post("/chats/bulk", {"action": "assign", "chat_ids": [chats[0].pk]})
    assert neither.status_code == 400
    assert "agent_id or department_id" in neither.json()["detail"]


def test_chats_the_supervisor_cannot_find_are_refused_one_by_one(
    sandbox: Channel, alice: User, sam: User, online: Any, api_as: Any
) -> None:
    online(alice)
    chat = writes(sandbox, "+27820004001")
    answer = api_as(sam).post(
        "/chats/bulk", {"action": "close", "chat_ids": [chat.pk, 987_654_321]}
    )
    assert answer.status_code == 200
    assert [c["id"] for c in answer.json()["done"]] == [chat.pk]
    assert [(r["chat_id"], r["status"]) for r in answer.json()["refused"]] == [(987_654_321, 404)]


def test_agents_do_not_act_in_bulk_and_a_selection_has_bounds(
    sandbox: Channel, alice: User, sam: User, online: Any, api_as: Any
) -> None:
    online(alice)
    chat = writes(sandbox, "+27820005001")
    refused = api_as(alice).post("/chats/bulk", {"action": "close", "chat_ids": [chat.pk]})
    assert refused.status_code == 403
    assert refused.json()["detail"] == bulk.NOT_OVERSEEING
    assert Chat.objects.get(pk=chat.pk).status == ChatStatus.OPEN

    empty = api_as(sam).post("/chats/bulk", {"action": "close", "chat_ids": []})
    assert empty.status_code == 400
    too_many = list(range(1, bulk.MAX_BULK + 2))
    assert (
        api_as(sam).post("/chats/bulk", {"action": "close", "chat_ids": too_many}).status_code
        == 400
    )
    unknown = api_as(sam).post("/chats/bulk", {"action": "delete", "chat_ids": [chat.pk]})
    assert unknown.status_code == 400
