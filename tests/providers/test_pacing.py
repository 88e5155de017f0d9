"""Pacing: a channel's sends go out at most ``send_rate`` a second, counted across every
worker at once; a burst still goes out whole, each message once. The rate is set per
channel through the API and the set-up form."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Contact, Message
from chatdesk.chats.services.outbound import Reply
from chatdesk.core import clock
from chatdesk.flows.outbound import send_message
from chatdesk.providers import pacing
from chatdesk.providers.models import Channel, ChannelKind, SendPace
from chatdesk.providers.tasks import deliver
from tests.support.fakes import FakeGraph
from tests.support.personas import ApiClient

# alice_on_duty: autouse where these tests lived before (tests/messaging).
pytestmark = pytest.mark.usefixtures("alice_on_duty")

ApiAs = Callable[[User | None], ApiClient]


def chat_with(channel: Channel, agent: User, n: int) -> Chat:
    contact = Contact.objects.create(phone=f"+2782777{n:04d}", name=f"Customer {n}")
    return Chat.objects.create(
        channel=channel,
        contact=contact,
        agent=agent,
        created_at=clock.now(),
        last_inbound_at=clock.now(),
    )


def queue_burst(channel: Channel, agent: User, count: int) -> list[int]:
    """``count`` replies, one to each of ``count`` customers."""
    return [
        send_message(
            chat_id=chat_with(channel, agent, n).pk, reply=Reply(text=f"Reply {n}"), by=agent
        ).pk
        for n in range(count)
    ]


def most_in_any_second(slots: list[datetime]) -> int:
    """The most slots that fall in any window of one second."""
    ordered = sorted(slots)
    most, start = 0, 0
    for end, slot in enumerate(ordered):
        while slot - ordered[start] >= timedelta(seconds=1):
            start += 1
        most = max(most, end - start + 1)
    return most


def in_threads(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` in ``count`` threads released at once, each with its own database
    connection, as separate workers would be; any error fails the test."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(index)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    assert not errors, errors


# --- The schedule ----------------------------------------------------------------------


@pytest.mark.django_db
def test_slots_for_k_sends_at_rate_r_span_k_minus_1_over_r(sandbox):
    rate, k = 40, 25
    slots = [pacing.reserve(sandbox.pk, rate=rate, max_wait=60) for _ in range(k)]
    assert all(slot.reserved for slot in slots)
    times = [slot.at for slot in slots]
    gaps = {later - earlier for earlier, later in itertools.pairwise(times)}
    assert gaps == {timedelta(seconds=1 / rate)}
    assert times[-1] - times[0] == timedelta(seconds=(k - 1) / rate)
    assert SendPace.objects.get(channel=sandbox).next_slot_at == times[-1] + timedelta(
        seconds=1 / rate
    )


@pytest.mark.django_db
def test_an_idle_channel_sends_at_once_and_a_slot_too_far_off_is_not_taken(sandbox):
    first = pacing.reserve(sandbox.pk, rate=1, max_wait=5)
    assert first.reserved and first.wait() <= 1.0  # nothing before it: now
    second = pacing.reserve(sandbox.pk, rate=1, max_wait=5)
    assert second.reserved and second.at - first.at == timedelta(seconds=1)
    # With 0.5 s as the longest wait, the next slot (2 s after the first) is not taken...
    refused = pacing.reserve(sandbox.pk, rate=1, max_wait=0.5)
    assert not refused.reserved
    assert SendPace.objects.get(channel=sandbox).next_slot_at == second.at + timedelta(seconds=1)
    # ...and the answer says when it is worth asking again.
    assert refused.at == second.at + timedelta(seconds=1) - timedelta(seconds=0.5)


@pytest.mark.django_db
def test_a_provider_hold_moves_the_slot_later_never_earlier(sandbox):
    until = clock.now() + timedelta(seconds=30)
    assert pacing.hold(sandbox.pk, until=until) is True
    assert pacing.hold(sandbox.pk, until=until - timedelta(seconds=10)) is False
    assert SendPace.objects.get(channel=sandbox).next_slot_at == until
    assert not pacing.reserve(sandbox.pk, rate=80, max_wait=2).reserved


@pytest.mark.django_db(transaction=True)
def test_workers_reserving_at_once_never_exceed_the_rate(sales):
    channel = Channel.objects.create(kind=ChannelKind.SANDBOX, name="Busy", department=sales)
    rate, workers, each = 50, 4, 30
    slots: list[datetime] = []
    lock = threading.Lock()

    def work(_: int) -> None:
        for _ in range(each):
            slot = pacing.reserve(channel.pk, rate=rate, max_wait=60)
            assert slot.reserved
            with lock:
                slots.append(slot.at)

    in_threads(workers, work)
    assert len(slots) == workers * each
    ordered = sorted(slots)
    assert min(b - a for a, b in itertools.pairwise(ordered)) >= timedelta(seconds=1 / rate)
    assert most_in_any_second(slots) <= rate


# --- Deliveries --------------------------------------------------------------------------


def still_queued(message_id: int) -> bool:
    return Message.objects.filter(pk=message_id, status="queued").exists()


@pytest.mark.django_db(transaction=True)
@override_settings(CHATDESK_SEND_PACE_WAIT=0.05)
def test_a_burst_through_several_workers_goes_out_whole_each_message_once(
    sales: Any, alice: User, fake_graph: FakeGraph
) -> None:
    channel = Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="Burst",
        department=sales,
        send_rate=40,
        config={
            "phone_number_id": fake_graph.phone_number_id,
            "graph_api_url": fake_graph.graph_api_url,
        },
        secrets={"access_token": fake_graph.access_token},
    )
    ids = queue_burst(channel, alice, 60)
    # Four workers share the backlog, each taking the next due message; the tasks that
    # send_message queued are the duplicates a real queue may hold, and skip.
    backlog = list(ids) + list(ids)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def work(_: int) -> None:
        deadline = clock.now() + timedelta(seconds=90)
        while clock.now() < deadline:
            with lock:
                if not backlog:
                    return
                message_id = backlog.pop(0)
            outcome = deliver(message_id)
            with lock:
                outcomes[outcome] += 1
            # Put back ("paced"), or picked up before its put-back time ("skipped"): while
            # it is still queued its turn comes later, as its delayed task would bring it.
            if outcome in ("paced", "skipped") and still_queued(message_id):
                time.sleep(0.01)
                with lock:
                    backlog.append(message_id)

    in_threads(4, work)
    assert backlog == []
    references = [body["biz_opaque_callback_data"] for body in fake_graph.sent]
    assert sorted(references) == sorted(f"chatdesk-{pk}" for pk in ids)  # none lost or twice
    assert outcomes["sent"] == 60 and outcomes["skipped"] >= 60
    # A message put back ("paced") came round again and went out once; whether any was
    # depends on how fast the workers run (the put-back itself is proven below).
    rows = Message.objects.filter(pk__in=ids)
    assert {row.status for row in rows} == {"sent"}
    assert {row.provider_message_id for row in rows} == set(fake_graph.issued)
    assert all(row.attempts == 1 for row in rows)


@pytest.mark.django_db
@override_settings(CHATDESK_SEND_PACE_WAIT=0.5)
def test_a_message_past_the_longest_wait_is_put_back_with_a_task_for_its_turn(
    wa_live: Channel,
    alice: User,
    fake_graph: FakeGraph,
    django_capture_on_commit_callbacks: Any,
) -> None:
    Channel.objects.filter(pk=wa_live.pk).update(send_rate=1)
    first, second = queue_burst(wa_live, alice, 2)
    DBTaskResult.objects.all().delete()
    assert deliver(first) == "sent"
    pacing.reserve(wa_live.pk, rate=1, max_wait=5)  # another worker took the next slot
    before = clock.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(second) == "paced"
    assert len(fake_graph.sent) == 1
    message = Message.objects.get(pk=second)
    assert message.status == "queued" and message.in_flight_since is None
    assert message.attempts == 0  # not an attempt: nothing was claimed or sent
    assert message.next_attempt_at is not None
    assert message.next_attempt_at > before + timedelta(seconds=1)
    task = DBTaskResult.objects.get(task_path__endswith="deliver_message")
    assert task.args_kwargs["args"] == [second]
    assert task.run_after is not None and task.run_after > before + timedelta(seconds=1)
    assert deliver(second) == "skipped"  # not due yet


# --- The setting -------------------------------------------------------------------------

WHATSAPP_CONFIG = {
    "phone_number_id": "106540352242922",
    "access_token": "EAAG-token",
    "app_secret": "app-secret",
    "verify_token": "verify",
}


@pytest.mark.django_db
def test_the_rate_is_set_per_channel_through_the_api(api_as: ApiAs, ada: User) -> None:
    client = api_as(ada)
    default = client.post(
        "/channels", {"kind": "whatsapp", "name": "Default", "config": WHATSAPP_CONFIG}
    )
    assert default.status_code == 201, default.content
    assert default.json()["send_rate"] == 80
    large = client.post(
        "/channels",
        {"kind": "whatsapp", "name": "Large", "config": WHATSAPP_CONFIG, "send_rate": 1000},
    )
    assert large.status_code == 201, large.content
    assert large.json()["send_rate"] == 1000
    changed = client.patch(f"/channels/{default.json()['id']}", {"send_rate": 20})
    assert changed.status_code == 200, changed.content
    assert changed.json()["send_rate"] == 20
    assert client.get(f"/channels/{default.json()['id']}").json()["send_rate"] == 20
    assert Channel.objects.get(name="Default").send_rate == 20


@pytest.mark.django_db
@override_settings(CHATDESK_SEND_RATE=30)
def test_a_new_channel_takes_the_desks_default_rate(api_as: ApiAs, ada: User) -> None:
    response = api_as(ada).post("/channels", {"kind": "sandbox", "name": "Sandbox"})
    assert response.status_code == 201, response.content
    assert response.json()["send_rate"] == 30


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rate", "sentence"),
    [
        (0, "A channel's send rate must be from 1 to 1000 messages per second; got 0."),
        (-5, "A channel's send rate must be from 1 to 1000 messages per second; got -5."),
        (5000, "A channel's send rate must be from 1 to 1000 messages per second; got 5000."),
        (2.5, "send_rate: Input should be a valid integer, got a number with a fractional part."),
        (
            "fast",
            "send_rate: Input should be a valid integer, unable to parse string as an integer.",
        ),
    ],
)
def test_a_rate_out_of_bounds_is_refused_with_a_sentence(
    api_as: ApiAs, ada: User, sandbox: Channel, rate: Any, sentence: str
) -> None:
    client = api_as(ada)
    created = client.post("/channels", {"kind": "sandbox", "name": "New", "send_rate": rate})
    assert created.status_code == 400, created.content
    assert created.json() == {"detail": sentence}
    changed = client.patch(f"/channels/{sandbox.pk}", {"send_rate": rate, "name": "Renamed"})
    assert changed.status_code == 400, changed.content
    assert changed.json() == {"detail": sentence}
    assert not Channel.objects.filter(name__in=["New", "Renamed"]).exists()  # nothing written
    assert Channel.objects.get(pk=sandbox.pk).send_rate == 80


@pytest.mark.django_db
def test_the_setup_form_shows_and_changes_the_rate(ada: User, sandbox: Channel) -> None:
    client = Client()
    client.force_login(ada)
    url = f"/setup/providers/channel/{sandbox.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="send_rate"' in html and 'value="80"' in html
    form = {
        "kind": "sandbox",
        "name": sandbox.name,
        "is_active": "on",
        "out_of_hours_reply": sandbox.out_of_hours_reply,
        "queue_reply": sandbox.queue_reply,
        "end_keyword": sandbox.end_keyword,
        "config": "{}",
    }
    refused = client.post(url, {**form, "send_rate": "0"})
    assert refused.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in refused.content.decode()
    assert client.post(url, {**form, "send_rate": "12"}).status_code == 302
    assert Channel.objects.get(pk=sandbox.pk).send_rate == 12
