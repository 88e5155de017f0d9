"""Delivery statuses arrive shuffled, repeated and at the same moment, as providers send
them: a message's status only ever moves forward (queued < sent < failed < delivered <
read), ends at the highest one reached, and every webhook and status callback is
answered 2xx. Checked after every post through the API, and in the live events' order.

Sizes are small in ``make test``; ``CHATDESK_CHAOS_SCALE=full`` (``make chaos``) runs
many more messages and seeds.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client

from chatdesk.accounts.models import User
from chatdesk.chats.models import Contact, DeliveryStatus, Message
from chatdesk.providers.adapters import sms
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.realtime.models import LiveEvent
from chatdesk.routing.models import Department
from tests.support.personas import ApiClient
from tests.support.webhooks import (
    APP_SECRET,
    AUTH_TOKEN,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    post_twilio,
    post_whatsapp,
    sent_message,
    wa_payload,
    wa_status,
)

FULL = os.environ.get("CHATDESK_CHAOS_SCALE") == "full"
MESSAGES = 150 if FULL else 12
SEEDS = list(range(8)) if FULL else [1, 2]
PARALLEL_MESSAGES = 30 if FULL else 4
THREADS = 6 if FULL else 4

# Each status replaces exactly the lower ones (chats.services.inbound): "failed" a message
# not known to have arrived, "delivered" and "read" a failure the provider reported early.
RANK: dict[str, int] = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
}
WHATSAPP_STATUSES = ["sent", "delivered", "read", "failed"]
# Twilio's own words, including the intermediate ones that map to nothing newer.
TWILIO_STATUSES = [
    "accepted",
    "queued",
    "sending",
    "sent",
    "delivered",
    "read",
    "undelivered",
    "failed",
]
WA_ERRORS = {"errors": [{"code": 131026, "title": "Message undeliverable"}]}


@pytest.fixture
def wa_channel(sales: Department) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WhatsApp",
        department=sales,
        config={"phone_number_id": PHONE_NUMBER_ID, "graph_api_url": "http://127.0.0.1:9/v21.0"},
        secrets={"access_token": "EAAG", "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},
    )


@pytest.fixture
def sms_channel(sales: Department) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.SMS,
        name="SMS",
        department=sales,
        config={
            "account_sid": "AC" + "1" * 32,
            "from_number": "+14155550100",
            "api_url": "http://127.0.0.1:9",
        },
        secrets={"auth_token": AUTH_TOKEN},
    )


def outbound(channel: Channel, count: int, prefix: str) -> list[Message]:
    """``count`` messages handed to the provider, each in a chat of its own."""
    made = []
    for n in range(count):
        contact = Contact.objects.create(phone=f"+2782{n:07d}", name=f"Customer {n}")
        made.append(sent_message(channel, contact, f"{prefix}{n}", text=f"reply {n}"))
    return made


def ours(channel_kind: str, raw: str) -> str:
    """Our status for a provider's word."""
    return sms.STATUS_MAP[raw] if channel_kind == ChannelKind.SMS else raw


def shuffled_posts(
    rng: random.Random, messages: list[Message], words: list[str]
) -> list[tuple[Message, str]]:
    """Every message gets a few statuses, some repeated, all messages interleaved."""
    posts: list[tuple[Message, str]] = []
    for message in messages:
        picked = rng.choices(words, k=rng.randint(1, 6))
        posts.extend((message, word) for word in picked)
        if rng.random() < 0.5:  # the provider retrying one it already sent
            posts.append((message, rng.choice(picked)))
    rng.shuffle(posts)
    return posts


def api_status(api: ApiClient, message: Message) -> str:
    response = api.get(f"/chats/{message.chat_id}/messages")
    assert response.status_code == 200, response.content
    (row,) = [item for item in response.json()["items"] if item["id"] == message.pk]
    status: str = row["status"]
    return status


def status_events(message: Message) -> list[str]:
    """The statuses the live events announced for ``message``, in ``seq`` order (in
    the order written, where the test's transaction never commits to number them)."""
    rows = LiveEvent.objects.filter(type="message.status", chat_id=message.chat_id)
    ordered = rows.order_by(F("seq").asc(nulls_last=True), "id")
    return [row.data["status"] for row in ordered if row.data["id"] == message.pk]


def assert_forward_only(events: list[str], *, context: str) -> None:
    ranks = [RANK[status] for status in events]
    assert ranks == sorted(set(ranks)), f"{context}: live statuses {events} moved back or repeated"


def expected_moves(start: int, statuses: list[str]) -> int:
    """How many times a message starting at rank ``start`` moves, given ``statuses`` in
    the order they were applied: once per status higher than every one before it."""
    moves, current = 0, start
    for status in statuses:
        if RANK[status] > current:
            moves, current = moves + 1, RANK[status]
    return moves


@pytest.mark.parametrize("seed", SEEDS)
def test_shuffled_whatsapp_statuses_only_move_forward(
    wa_channel: Channel, sam: User, api_as: Callable[[User], ApiClient], seed: int
) -> None:
    rng = random.Random(seed)
    api = api_as(sam)
    messages = outbound(wa_channel, MESSAGES, f"wamid.S{seed}.")
    posts = shuffled_posts(rng, messages, WHATSAPP_STATUSES)
    start = RANK[DeliveryStatus.SENT]
    seen = {message.pk: start for message in messages}
    applied: dict[int, list[str]] = {message.pk: [] for message in messages}
    stamp = 1_764_000_000
    while posts:
        # Meta batches several statuses, of several messages, into one payload.
        size = rng.randint(1, 4)
        batch, posts = posts[:size], posts[size:]
        rows = []
        for message, word in batch:
            stamp += 1
            extra = WA_ERRORS if word == "failed" else {}
            rows.append(wa_status(message.provider_message_id or "", word, stamp, **extra))
            applied[message.pk].append(word)
        response = post_whatsapp(Client(), wa_channel, wa_payload(statuses=rows))
        assert response.status_code == 200, (seed, response.content)
        for message in {message.pk: message for message, _ in batch}.values():
            now = RANK[api_status(api, message)]
            assert now >= seen[message.pk], f"seed {seed}: message {message.pk} moved back"
            seen[message.pk] = now

    for message in messages:
        statuses = applied[message.pk]
        best = max(statuses, key=RANK.__getitem__)
        context = f"seed {seed}, message {message.pk}, posted {statuses}"
        assert api_status(api, message) == best, context
        events = status_events(message)
        assert_forward_only(events, context=context)
        assert len(events) == expected_moves(start, statuses), context
        if events:
            assert events[-1] == best, context
        message.refresh_from_db()
        assert message.status == best, context
        # A failure the provider took back leaves no stale reason on a delivered message.
        assert bool(message.error_code) == (best == DeliveryStatus.FAILED), context


@pytest.mark.parametrize("seed", SEEDS)
def test_shuffled_twilio_status_callbacks_only_move_forward(
    sms_channel: Channel, sam: User, api_as: Callable[[User], ApiClient], seed: int
) -> None:
    rng = random.Random(seed)
    api = api_as(sam)
    messages = outbound(sms_channel, MESSAGES, f"SM{seed:02d}x")
    posts = shuffled_posts(rng, messages, TWILIO_STATUSES)
    start = RANK[DeliveryStatus.SENT]
    seen = {message.pk: start for message in messages}
    applied: dict[int, list[str]] = {message.pk: [] for message in messages}
    path = f"/webhooks/sms/{sms_channel.pk}/status"
    for message, word in posts:
        form = {
            "MessageSid": message.provider_message_id or "",
            "MessageStatus": word,
            "AccountSid": "AC" + "1" * 32,
            "To": message.chat.contact.phone or "",
            "From": "+14155550100",
        }
        if word in ("undelivered", "failed"):
            form["ErrorCode"] = "30003"
        response = post_twilio(Client(), path, form)
        assert response.status_code == 200, (seed, word, response.content)
        applied[message.pk].append(ours(ChannelKind.SMS, word))
        now = RANK[api_status(api, message)]
        assert now >= seen[message.pk], f"seed {seed}: message {message.pk} moved back on {word}"
        seen[message.pk] = now

    for message in messages:
        statuses = applied[message.pk]
        best = max([DeliveryStatus.SENT, *statuses], key=RANK.__getitem__)
        context = f"seed {seed}, message {message.pk}, posted {statuses}"
        assert api_status(api, message) == best, context
        events = status_events(message)
        assert_forward_only(events, context=context)
        assert len(events) == expected_moves(start, statuses), context
        if events:
            assert events[-1] == best, context


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", [ChannelKind.WHATSAPP, ChannelKind.SMS])
def test_duplicate_statuses_posted_at_the_same_moment_settle_on_the_highest(
    request: pytest.FixtureRequest, kind: str
) -> None:
    """Every status of every message posted by several senders at once, each in its own
    order: the row lock of the conditional update lets one of the racers move a message
    to a status, and none back."""
    channel: Channel = request.getfixturevalue(
        "wa_channel" if kind == ChannelKind.WHATSAPP else "sms_channel"
    )
    rng = random.Random(7)
    words = WHATSAPP_STATUSES if kind == ChannelKind.WHATSAPP else TWILIO_STATUSES
    prefix = "wamid.P." if kind == ChannelKind.WHATSAPP else "SMpar"
    messages = outbound(channel, PARALLEL_MESSAGES, prefix)
    plan = {message.pk: rng.sample(words, k=rng.randint(2, len(words))) for message in messages}
    by_pk = {message.pk: message for message in messages}
    orders = []
    for _ in range(THREADS):
        order = [(pk, word) for pk, picked in plan.items() for word in picked]
        rng.shuffle(order)
        orders.append(order)
    barrier = threading.Barrier(THREADS)
    answers: list[int] = []
    errors: list[BaseException] = []

    def post(order: list[tuple[int, str]]) -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            for pk, word in order:
                answers.append(_post_one(client, channel, by_pk[pk], word))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a sender never finished"
    assert not errors, errors
    assert answers == [200] * sum(len(order) for order in orders)
    assert LiveEvent.objects.filter(seq__isnull=True).count() == 0
    for message in messages:
        statuses = [ours(kind, word) for word in plan[message.pk]]
        best = max([DeliveryStatus.SENT, *statuses], key=RANK.__getitem__)
        message.refresh_from_db()
        context = f"message {message.pk}, posted {statuses} x{THREADS}"
        assert message.status == best, context
        events = status_events(message)
        assert_forward_only(events, context=context)
        if best != DeliveryStatus.SENT:
            assert events and events[-1] == best, context


def _post_one(client: Client, channel: Channel, message: Message, word: str) -> int:
    pid = message.provider_message_id or ""
    if channel.kind == ChannelKind.WHATSAPP:
        extra: dict[str, Any] = WA_ERRORS if word == "failed" else {}
        payload = wa_payload(statuses=[wa_status(pid, word, 1_764_000_000, **extra)])
        return int(post_whatsapp(client, channel, payload).status_code)
    form = {"MessageSid": pid, "MessageStatus": word, "AccountSid": "AC" + "1" * 32}
    if word in ("undelivered", "failed"):
        form["ErrorCode"] = "30003"
    return int(post_twilio(client, f"/webhooks/sms/{channel.pk}/status", form).status_code)
