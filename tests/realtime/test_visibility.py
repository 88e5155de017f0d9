"""Who receives a live event: the one rule in two forms, ``can_see`` for live delivery and
``visible_events`` for replay, agrees for every viewer over a log with every kind of
audience; a replay gives each user exactly that; and a change to a user with an open
socket (deactivated, other departments, another role) applies without reconnecting."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest
from django.test import Client

from chatdesk.accounts.models import User
from chatdesk.chats.access import Viewer, can_see, viewer_for, visible_events
from chatdesk.core import clock
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.realtime import log as live_events
from chatdesk.realtime.consumers import CLOSE_UNAUTHENTICATED
from chatdesk.realtime.hub import Hub, get_hub
from chatdesk.realtime.models import LiveEvent, LiveEventType
from chatdesk.routing.models import Department
from tests.support.live import (
    ApiAs,
    Online,
    about_chats,
    chat_frames,
    connect,
    connect_all,
    customer_writes,
    db,
    disconnect_all,
    frames,
    frames_until_closed,
    nothing,
    phone,
    run,
    types,
)
from tests.support.mixed_log import build_a_mixed_log

realtime_db = pytest.mark.django_db(transaction=True)

NOBODY = 10**9  # an id no user or department has


@pytest.fixture
def support_line(support: Department) -> Channel:
    return Channel.objects.create(kind=ChannelKind.SANDBOX, name="Support line", department=support)


# --- The live rule and the replay rule agree ---------------------------------------------


def every_audience(users: list[User], departments: list[Department]) -> list[LiveEvent]:
    """Rows for every combination of the audience fields over a small universe (real
    users and departments, None, and an id of nobody), numbered after the real log, a
    few left unnumbered as a crash leaves them. Exhaustive, so no generator is needed."""
    people: list[int | None] = [None, *(user.pk for user in users), NOBODY]
    places: list[int | None] = [None, *(department.pk for department in departments), NOBODY]
    recipients: list[int | None] = [None, users[0].pk, users[-1].pk, NOBODY]
    seq = live_events.latest_seq()
    rows = []
    for agent, previous, department, previous_department, user, everyone in itertools.product(
        people, people, places, places, recipients, [False, True]
    ):
        seq += 1
        rows.append(
            LiveEvent(
                seq=seq if seq % 7 else None,
                type=LiveEventType.MESSAGE_CREATED,
                chat_id=seq,
                data={},
                agent_id=agent,
                previous_agent_id=previous,
                department_id=department,
                previous_department_id=previous_department,
                user_id=user,
                everyone=everyone,
                created_at=clock.now(),
            )
        )
    return LiveEvent.objects.bulk_create(rows)


def mixed_viewers(personas: list[User], sales: Department, support: Department) -> list[Viewer]:
    """The five personas (alice, bob, dave, sam, ada) as they are, then viewers no persona
    is: other departments, a supervisor with a department, somebody unknown, a
    deactivated agent."""
    alice, bob, dave, sam, _ = personas
    return [viewer_for(user) for user in personas] + [
        Viewer(user_id=alice.pk, oversees=False, department_ids=frozenset({sales.pk, support.pk})),
        Viewer(user_id=bob.pk, oversees=False, department_ids=frozenset()),
        Viewer(user_id=dave.pk, oversees=False, department_ids=frozenset({NOBODY})),
        Viewer(user_id=sam.pk, oversees=True, department_ids=frozenset({sales.pk})),
        Viewer(user_id=NOBODY + 1, oversees=False, department_ids=frozenset({support.pk})),
        Viewer(user_id=alice.pk, oversees=False, department_ids=frozenset(), is_active=False),
    ]


@realtime_db
def test_the_live_rule_and_the_replay_rule_agree_for_every_viewer(
    sandbox: Channel,
    support_line: Channel,
    sales: Department,
    support: Department,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    ada: User,
    online: Online,
) -> None:
    build_a_mixed_log(sandbox, support_line, alice, bob, dave, sam, online)
    assert set(LiveEvent.objects.values_list("type", flat=True)) == set(LiveEventType.values)
    assert LiveEvent.objects.filter(user_id__isnull=False).exists()  # notifications
    assert LiveEvent.objects.filter(previous_department_id__isnull=False).exists()
    assert LiveEvent.objects.filter(previous_agent_id__isnull=False).exists()
    every_audience([alice, dave, sam], [sales, support])

    viewers = mixed_viewers([alice, bob, dave, sam, ada], sales, support)
    rows = list(LiveEvent.objects.all())
    assert len(rows) > 3000
    for viewer in viewers:
        live = {row.pk for row in rows if can_see(viewer, live_events.as_dict(row))}
        replay = set(visible_events(viewer).values_list("pk", flat=True))
        assert live == replay, (viewer, sorted(live ^ replay)[:10])
        # The comparison is never between two empty sets, except for a deactivated user.
        assert bool(live) == viewer.is_active, viewer
    changes = LiveEvent.objects.filter(type=LiveEventType.USER_CHANGED)
    internal = set(changes.values_list("pk", flat=True))
    assert internal and not any(
        internal & set(visible_events(viewer).values_list("pk", flat=True)) for viewer in viewers
    )
    # The rule does decide: the five personas each see a different part of the log.
    seen = {
        frozenset(visible_events(viewer).values_list("pk", flat=True)) for viewer in viewers[:5]
    }
    assert len(seen) == 5


@realtime_db
def test_the_hub_offers_each_event_to_exactly_the_connections_that_may_see_it(
    sandbox: Channel,
    support_line: Channel,
    sales: Department,
    support: Department,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    ada: User,
    online: Online,
) -> None:
    """The hub looks an event's audience up in its index of connections instead of asking
    each one: over the mixed log, every connection is still offered exactly what the
    rule lets it see, several connections of one user included."""
    build_a_mixed_log(sandbox, support_line, alice, bob, dave, sam, online)
    every_audience([alice, dave, sam], [sales, support])
    # Each persona twice (two tabs), beside the made-up viewers.
    viewers = [viewer_for(user) for user in (alice, bob, dave, sam, ada)]
    viewers += mixed_viewers([alice, bob, dave, sam, ada], sales, support)
    rows = [
        live_events.as_dict(row)
        for row in LiveEvent.objects.exclude(type=LiveEventType.USER_CHANGED)
        .filter(seq__isnull=False)
        .order_by("seq")
    ]
    assert len(rows) > 2500
    loop = asyncio.new_event_loop()
    try:
        hub = Hub(loop)
        subscriptions = [hub.subscribe(viewer) for viewer in viewers]
        gone = hub.subscribe(viewer_for(sam))
        hub.unsubscribe(gone)
        for subscription in subscriptions:
            subscription.limit = len(rows)
        for row in rows:
            hub._offer(row)
    finally:
        loop.close()
    for viewer, subscription in zip(viewers, subscriptions, strict=True):
        offered = [json.loads(text)["seq"] for _, text in subscription._frames]
        assert offered == [row["seq"] for row in rows if can_see(viewer, row)], viewer
    assert not gone._frames
    # Not a comparison of empty lists: a supervisor gets more than an agent, who gets some.
    assert len(subscriptions[3]._frames) > len(subscriptions[0]._frames) > 0


@realtime_db
def test_a_replay_from_the_start_is_exactly_what_each_user_may_see(
    sandbox: Channel,
    support_line: Channel,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    ada: User,
    online: Online,
) -> None:
    build_a_mixed_log(sandbox, support_line, alice, bob, dave, sam, online)

    def visible_seqs(user: User) -> list[int]:
        viewer = viewer_for(user)
        return [
            row.seq
            for row in LiveEvent.objects.filter(seq__isnull=False).order_by("seq")
            if row.seq is not None and can_see(viewer, live_events.as_dict(row))
        ]

    async def scenario() -> None:
        for user in (alice, bob, dave, sam, ada):
            communicator = await connect(user, since=0)
            replayed = await frames(communicator)
            assert [frame["seq"] for frame in replayed] == await db(visible_seqs, user), user
            await communicator.disconnect()

    run(scenario)


# --- Changes to the user behind an open socket --------------------------------------------


async def until_the_socket_knows(user: User, departments: set[int]) -> None:
    """Wait until the open socket of ``user`` addresses events by these departments: its
    consumer re-reads the user after a change, in the background."""
    hub = await get_hub()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    while not any(
        subscription.viewer.user_id == user.pk and subscription.viewer.department_ids == departments
        for subscription in hub.subscriptions
    ):
        assert loop.time() < deadline, "the socket never learnt the user's new departments"
        await asyncio.sleep(0.02)


def deactivate_on_the_setup_page(user: User, *, by: User) -> None:
    """What an admin does on /setup/: untick "active" on the user's page and save."""
    client = Client()
    client.force_login(by)
    data = {
        "username": user.username,
        "role": user.role,
        "display_name": user.display_name,
        "departments": [department.pk for department in user.departments.all()],
        "capacity": user.capacity,
        "presence": user.presence,
        "first_name": "",
        "last_name": "",
        "email": "",
    }  # no "is_active": the box is unticked
    response = client.post(f"/setup/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert user.is_active is False


@pytest.mark.parametrize("where", ["api", "setup_page"])
@realtime_db
def test_a_deactivated_users_open_socket_is_closed_within_five_seconds(
    where: str, sandbox: Channel, alice: User, bob: User, ada: User, api_as: ApiAs
) -> None:
    as_ada = api_as(ada)

    def deactivate_bob() -> None:
        if where == "setup_page":
            deactivate_on_the_setup_page(bob, by=ada)
            return
        response = as_ada.patch(f"/users/{bob.pk}", {"is_active": False})
        assert response.status_code == 200, response.content
        assert response.json()["is_active"] is False

    async def scenario() -> None:
        to_alice, to_bob = await connect_all(alice, bob)
        await db(deactivate_bob)
        _, code = await frames_until_closed(to_bob, 5.0)
        assert code == CLOSE_UNAUTHENTICATED
        await to_bob.disconnect()
        # Alice, whose socket stays open, still gets her queue's events.
        await db(customer_writes, sandbox, phone(30), "Hello?")
        assert types(await chat_frames(to_alice, 3))[0] == "chat.created"
        await disconnect_all(to_alice)

    run(scenario)


@realtime_db
def test_new_departments_apply_to_an_open_socket_without_reconnecting(
    sandbox: Channel,
    support_line: Channel,
    sales: Department,
    support: Department,
    alice: User,
    dave: User,
    ada: User,
    api_as: ApiAs,
) -> None:
    as_ada, as_alice = api_as(ada), api_as(alice)

    async def scenario() -> None:
        to_dave, to_alice = await connect_all(dave, alice)
        before = (await db(customer_writes, sandbox, phone(31), "Before")).chat_id
        await chat_frames(to_alice, 3)
        await nothing(to_dave)

        response = await db(
            as_ada.patch, f"/users/{dave.pk}", {"department_ids": [support.pk, sales.pk]}
        )
        assert response.status_code == 200, response.content
        await until_the_socket_knows(dave, {support.pk, sales.pk})
        after = (await db(customer_writes, sandbox, phone(32), "After")).chat_id
        got = await chat_frames(to_dave, 3)
        assert types(got) == ["chat.created", "message.created", "message.created"]
        assert {frame["chat_id"] for frame in got} == {after}
        # The older Sales ticket is in his queue too now: he sees it leave.
        response = await db(as_alice.post, f"/chats/{before}/accept")
        assert response.status_code == 200, response.content
        left = await chat_frames(to_dave, 1)
        assert (left[0]["type"], left[0]["chat_id"]) == ("chat.assigned", before)

        # Out of Sales again: its new tickets no longer reach him; Support's still do.
        response = await db(as_ada.patch, f"/users/{dave.pk}", {"department_ids": [support.pk]})
        assert response.status_code == 200, response.content
        await until_the_socket_knows(dave, {support.pk})
        await db(customer_writes, sandbox, phone(33), "Sales again")
        support_chat = (await db(customer_writes, support_line, phone(34), "Support")).chat_id
        got = await chat_frames(to_dave, 3)
        assert {frame["chat_id"] for frame in got} == {support_chat}
        await disconnect_all(to_dave, to_alice)

    run(scenario)


@pytest.mark.parametrize("change", ["leaves_sales", "deactivated", "demoted"])
@realtime_db
def test_an_event_committed_after_a_change_to_a_user_is_addressed_by_the_change(
    change: str,
    sandbox: Channel,
    bob: User,
    sam: User,
    ada: User,
    support: Department,
    api_as: ApiAs,
) -> None:
    """The change commits before the event does, so the event must already be addressed
    by it: a user who may no longer see a Sales ticket must not receive it, even in the
    moment before their socket re-reads them (or closes)."""
    subject, patch = {
        "leaves_sales": (bob, {"department_ids": [support.pk]}),
        "deactivated": (bob, {"is_active": False}),
        "demoted": (sam, {"role": "agent"}),
    }[change]
    as_ada = api_as(ada)

    def change_then_a_new_ticket() -> None:
        response = as_ada.patch(f"/users/{subject.pk}", patch)
        assert response.status_code == 200, response.content
        # Right after the change commits, a Sales ticket the subject may no longer see
        # (as when the two happen in different app processes a moment apart).
        customer_writes(sandbox, phone(35), "Just after")

    async def scenario() -> None:
        to_subject = await connect(subject)
        await frames(to_subject)
        await db(change_then_a_new_ticket)
        if change == "deactivated":
            received, code = await frames_until_closed(to_subject, 5.0)
            assert code == CLOSE_UNAUTHENTICATED
        else:
            received = await frames(to_subject)
        leaked = about_chats(received)
        assert leaked == [], f"{subject.username} received {types(leaked)} of a Sales ticket"
        await to_subject.disconnect()

    run(scenario)
