"""schemathesis against the API's own OpenAPI document (/api/v1/openapi.json), through
the WSGI application and the test database: for every operation, as an admin and as an
agent, no server error, and every answer (its status code, content type, headers and
body) is one the document declares.

Checks: ``not_a_server_error``, ``status_code_conformance``, ``content_type_conformance``,
``response_headers_conformance`` and ``response_schema_conformance`` for every generated
request. Not enabled: ``negative_data_rejection`` / ``positive_data_acceptance`` (they
judge whether the inputs schemathesis considers valid must be accepted: with random ids a
valid request is mostly a 404 "not found", which they would report), the stateful checks
(``use_after_free``, ``ensure_resource_availability``: the API deletes nothing but
business hours, and they need link definitions the document does not declare), and
``ignored_auth`` (tests/api/test_api_auth.py and the permission matrix cover access).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Contact, Direction, Message
from chatdesk.chats.services.comments import add_comment
from chatdesk.core import clock
from chatdesk.providers.models import Channel, ChannelKind, Template
from chatdesk.routing.models import Department
from tests.support.fuzz import FULL, FUZZ

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

# The ids of rows that exist, by path parameter: a request names a real one as often as
# a random one, so the answers with bodies are checked too, not only the "not found"s.
REAL_IDS: dict[str, list[int]] = {}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters:
        return st.just(path_parameters)
    choices = [path_parameters]
    for name, value in path_parameters.items():
        for real in REAL_IDS.get(name, []):
            if isinstance(value, int):
                choices.append({**path_parameters, name: real})
    return st.sampled_from(choices)


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Iterator[None]:
    """Django closes the database connection after each request it serves; the test's
    transaction lives on that connection, so, as Django's own test client does, requests
    served here leave it open."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def desk(sales: Department, alice: User, ada: User, sam: User) -> dict[str, int]:
    """A small desk: a WhatsApp channel with a template, a chat of Alice's with messages
    both ways, a comment mentioning her (so she has a notification)."""
    channel = Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WhatsApp",
        department=sales,
        config={"phone_number_id": "106540352242922", "graph_api_url": "http://127.0.0.1:9/v21.0"},
        secrets={"access_token": "t", "app_secret": "s", "verify_token": "v"},
    )
    template = Template.objects.create(
        channel=channel, name="order_update", language="en_US", body="Hi {{1}}", status="approved"
    )
    contact = Contact.objects.create(phone="+27821234567", name="Carol Customer")
    now = clock.now()
    chat = Chat.objects.create(
        channel=channel,
        contact=contact,
        department=sales,
        agent=alice,
        assigned_at=now,
        created_at=now,
        last_inbound_at=now,
        last_message_at=now,
    )
    Message.objects.create(
        chat=chat,
        channel=channel,
        direction=Direction.IN,
        text="Hello",
        created_at=now,
        provider_message_id="wamid.OPENAPI",
    )
    add_comment(chat_id=chat.pk, body="@alice have a look", by=sam)
    ids = {
        "user_id": [alice.pk, ada.pk],
        "channel_id": [channel.pk],
        "template_id": [template.pk],
        "chat_id": [chat.pk],
        "notification_id": list(alice.notifications.values_list("pk", flat=True)),
    }
    REAL_IDS.clear()
    REAL_IDS.update(ids)
    return {"chat": chat.pk}


def _bearer(user: User, token_for: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user)}"}


@schema.parametrize()
@settings(FUZZ, max_examples=300 if FULL else 15)
def test_every_operation_as_an_admin(case: Any, desk: Any, ada: User, token_for: Any) -> None:
    case.call_and_validate(headers=_bearer(ada, token_for), checks=CHECKS)


@schema.parametrize()
@settings(FUZZ, max_examples=100 if FULL else 5)
def test_every_operation_as_an_agent(case: Any, desk: Any, alice: User, token_for: Any) -> None:
    case.call_and_validate(headers=_bearer(alice, token_for), checks=CHECKS)
