"""An id or filter larger than any database integer is a clear 400 (or a 404 for an id in
the path), never a server error: SQLite refuses to bind an integer over 64 bits, and the
fuzzer found the query filters that reached it."""

from __future__ import annotations

import pytest

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat
from tests.support import chat_factory

TOO_LARGE = 10**30


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (f"/agents/available?department_id={TOO_LARGE}", "department_id"),
        (f"/chats?agent_id={TOO_LARGE}", "agent_id"),
        (f"/chats?department_id={TOO_LARGE}", "department_id"),
        (f"/templates?channel_id={TOO_LARGE}", "channel_id"),
    ],
)
def test_a_filter_too_large_for_an_id_is_a_400_with_a_sentence(api_as, ada, path, name):
    response = api_as(ada).get(path)

    assert response.status_code == 400, response.content
    assert response.json() == {
        "detail": f"{name}: Input should be less than or equal to 9223372036854775807."
    }


@pytest.mark.parametrize("path", [f"/chats/{TOO_LARGE}", f"/users/{TOO_LARGE}"])
def test_an_id_too_large_in_the_path_is_not_found(api_as, ada, path):
    response = api_as(ada).get(path)

    assert response.status_code == 404, response.content
    assert response.json()["detail"]


def test_an_assignment_to_an_agent_id_too_large_changes_nothing(api_as, sam, sandbox):
    queued = chat_factory.chat(sandbox)

    response = api_as(sam).post(f"/chats/{queued.pk}/assign", {"agent_id": TOO_LARGE})

    assert 400 <= response.status_code < 500, response.content
    assert response.json()["detail"]
    assert Chat.objects.get(pk=queued.pk).agent_id is None


def test_a_new_user_in_a_department_id_too_large_is_refused_and_not_created(api_as, ada):
    response = api_as(ada).post(
        "/users",
        {
            "username": "zed",
            "role": "agent",
            "password": "a-long-enough-passphrase-41",
            "department_ids": [TOO_LARGE],
        },
    )

    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert not User.objects.filter(username="zed").exists()
