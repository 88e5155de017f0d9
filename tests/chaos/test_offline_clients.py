"""Clients that go away while the desk keeps working: a short absence is filled exactly
and in order on reconnecting with ``?since=``; an absence longer than the event
retention gets ``resync``, and what the client then reads equals what a brand-new client
loads.

In ``make test`` the short absence lasts a couple of seconds of events;
``CHATDESK_CHAOS_SCALE=full`` (``make chaos``) keeps the clients away for 30 s.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from chatdesk.accounts.models import User
from chatdesk.chats.access import viewer_for, visible_events
from chatdesk.chats.models import Chat
from chatdesk.chats.services.comments import add_comment
from chatdesk.core import clock
from chatdesk.flows import lifecycle as transfers
from chatdesk.providers.models import Channel
from chatdesk.realtime import log as live_events
from chatdesk.realtime import sequencer
from tests.support.live import connect, customer_writes, db, frames, frames_until, run
from tests.support.personas import ApiClient

FULL = os.environ.get("CHATDESK_CHAOS_SCALE") == "full"
AWAY_SECONDS = 30.0 if FULL else 2.0
AT_LEAST = 40 if FULL else 8  # events caused while away, however slow the machine

Frame = dict[str, Any]

realtime_db = pytest.mark.django_db(transaction=True)


def numbered(received: list[Frame]) -> list[Frame]:
    return [frame for frame in received if "seq" in frame]


def has_all(earlier: list[Frame], wanted: list[int]) -> Callable[[list[Frame]], bool]:
    """Done once ``earlier`` and the frames received since hold every seq ``wanted``."""

    def done(received: list[Frame]) -> bool:
        return set(wanted) <= {frame["seq"] for frame in numbered(earlier + received)}

    return done


class Desk:
    """The desk at work: customers write in (new chats and follow-ups), agents comment
    and mention each other, close chats; each step one service call."""

    def __init__(self, channel: Channel, alice: User, bob: User) -> None:
        self.channel, self.alice, self.bob = channel, alice, bob
        self.phones = (f"+2783{n:07d}" for n in itertools.count())
        self.steps = itertools.count()

    def step(self) -> None:
        n = next(self.steps)
        if n % 4 == 0 or not self._open_chats():
            customer_writes(self.channel, next(self.phones), f"new customer {n}")
            return
        chat = self._open_chats()[n % len(self._open_chats())]
        if n % 4 == 1:
            customer_writes(self.channel, chat.contact.phone or "", f"follow-up {n}")
        elif n % 4 == 2:
            add_comment(chat_id=chat.pk, body=f"@bob have a look ({n})", by=self.alice)
        else:
            transfers.close_chat(chat_id=chat.pk, by=self.alice)

    def alice_hears_again(self, text: str) -> None:
        """A customer of one of alice's open chats writes: alice and supervisors see it.
        The steps may have closed all of hers: new customers write until one is hers."""
        for _ in range(20):
            if self._open_chats():
                break
            customer_writes(self.channel, next(self.phones), "a new customer")
        chat = self._open_chats()[0]
        customer_writes(self.channel, chat.contact.phone or "", text)

    def _open_chats(self) -> list[Chat]:
        return list(
            Chat.objects.filter(status="open", agent=self.alice)
            .select_related("contact")
            .order_by("pk")
        )


async def stay_away(desk: Desk, *, seconds: float, at_least: int) -> int:
    """Keep the desk busy for ``seconds`` (and at least ``at_least`` steps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    steps = 0
    while steps < at_least or loop.time() < deadline:
        await db(desk.step)
        steps += 1
        await asyncio.sleep(0.02)  # spread over the absence, as a real desk's day
    return steps


@realtime_db
def test_a_short_absence_is_filled_exactly_and_in_order(
    sandbox: Channel, alice: User, bob: User, sam: User, online: Any
) -> None:
    """Each of alice (an agent) and sam (a supervisor) has a tab that stays connected and
    one that drops; on reconnecting with the last seq it saw, the dropped tab receives
    the very frames the connected one got meanwhile, in the same order, then goes on live
    with no copy."""
    online(alice, capacity=100)
    online(bob, capacity=100)
    desk = Desk(sandbox, alice, bob)

    async def scenario() -> None:
        viewers = {"alice": alice, "sam": sam}
        staying = {name: await connect(user) for name, user in viewers.items()}
        leaving = {name: await connect(user) for name, user in viewers.items()}
        await db(desk.step)
        await db(desk.step)
        last: dict[str, int] = {}
        for name, communicator in leaving.items():
            got = await frames_until(communicator, lambda r: len(numbered(r)) >= 2, timeout=10)
            got += await frames(communicator)
            last[name] = max(frame["seq"] for frame in numbered(got))
            await communicator.disconnect()
        witnessed: dict[str, list[Frame]] = {name: [] for name in viewers}
        for name, communicator in staying.items():
            witnessed[name] += await frames(communicator)

        steps = await stay_away(desk, seconds=AWAY_SECONDS, at_least=AT_LEAST)
        newest = await db(live_events.latest_seq)
        for name, user in viewers.items():
            # What the log says this viewer missed; the connected tab gets all of it.
            wanted = await db(visible_seqs, user, after=last[name], upto=newest)
            assert len(wanted) >= steps // 2, (name, steps, wanted)
            communicator = staying[name]
            witnessed[name] += await frames_until(
                communicator,
                has_all(witnessed[name], wanted),
                timeout=30,
            )
            missed = [
                frame for frame in numbered(witnessed[name]) if last[name] < frame["seq"] <= newest
            ]
            assert [frame["seq"] for frame in missed] == wanted, name

            again = await connect(user, since=last[name])
            replayed = await frames_until(again, has_all([], [wanted[-1]]), timeout=30)
            replayed += await frames(again)
            replayed = [frame for frame in numbered(replayed) if frame["seq"] <= newest]
            assert replayed == missed, name
            # Then live, and nothing twice.
            await db(desk.alice_hears_again, f"after {name} came back")
            live = numbered(await frames_until(again, lambda r: bool(numbered(r)), timeout=10))
            live += numbered(await frames(again))
            assert live and all(frame["seq"] > newest for frame in live), name
            await again.disconnect()
            newest = await db(live_events.latest_seq)
            witnessed[name] = []
        for communicator in staying.values():
            await communicator.disconnect()

    run(scenario)


def visible_seqs(user: User, *, after: int, upto: int) -> list[int]:
    """The seqs in (after, upto] that ``user`` may see, read from the log."""
    rows = visible_events(viewer_for(user)).filter(seq__gt=after, seq__lte=upto)
    return [seq for seq in rows.order_by("seq").values_list("seq", flat=True) if seq is not None]


def load(client: ApiClient, html: Client, *, lists: str) -> dict[str, Any]:
    """What a page shows on loading: the API's chat lists and tab counts, and the page's
    lists fragment, with the per-request CSRF token taken out."""
    state: dict[str, Any] = {}
    for tab in ("chats", "tickets", "closed"):
        response = client.get("/chats", tab=tab, limit=200)
        assert response.status_code == 200, response.content
        state[tab] = response.json()
    summary = client.get("/chats/summary")
    assert summary.status_code == 200, summary.content
    state["summary"] = summary.json()
    fragment = html.get(lists)
    assert fragment.status_code == 200
    state["fragment"] = re.sub(r'value="[A-Za-z0-9]{32,}"', 'value=""', fragment.text)
    return state


@realtime_db
@pytest.mark.parametrize(
    ("who", "lists"),
    [("sam", "/supervisor/lists/?tab=chats"), ("alice", "/agent/lists/")],
)
def test_an_absence_longer_than_the_retention_resyncs_to_what_a_fresh_load_shows(
    sandbox: Channel,
    alice: User,
    bob: User,
    sam: User,
    online: Any,
    settings: Any,
    api_as: Callable[[User], ApiClient],
    who: str,
    lists: str,
) -> None:
    settings.CHATDESK_EVENT_RETENTION_DAYS = 7
    online(alice, capacity=100)
    online(bob, capacity=100)
    desk = Desk(sandbox, alice, bob)
    user = {"sam": sam, "alice": alice}[who]
    for _ in range(3):
        desk.step()

    def session_for(person: User) -> Client:
        client = Client()
        client.force_login(person)
        return client

    away_api, away_html = api_as(user), session_for(user)
    before = load(away_api, away_html, lists=lists)

    async def scenario() -> None:
        tab = await connect(user)
        await frames(tab)
        last = await db(live_events.latest_seq)
        await tab.disconnect()

        # Away for more than a week: the desk works on, and the sweep forgets old events.
        await stay_away(desk, seconds=0, at_least=AT_LEAST)
        newest = await db(live_events.latest_seq)
        with time_machine.travel(clock.now() + timedelta(days=8)):
            pruned = await db(sequencer.prune_old_events)
        assert pruned >= newest - last - 1 > 0

        back = await connect(user, since=last)
        first = await frames_until(back, lambda r: bool(r), timeout=10)
        assert first[0] == {"type": "resync"}
        assert not numbered(first + await frames(back)), "nothing replayed after resync"

        # The page reads everything again, as a new page would; both agree.
        # (At one frozen moment, so "waiting 3 min" reads the same in both.)
        def reload_and_load_fresh() -> tuple[dict[str, Any], dict[str, Any]]:
            with time_machine.travel(clock.now(), tick=False):
                reloaded = load(away_api, away_html, lists=lists)
                return reloaded, load(api_as(user), session_for(user), lists=lists)

        reloaded, fresh = await db(reload_and_load_fresh)
        assert reloaded == fresh
        assert reloaded != before, "the absence changed nothing to resync"

        # And the resynced socket goes on live from there.
        await db(desk.alice_hears_again, "after the resync")
        live = numbered(
            await frames_until(
                back,
                lambda r: any(f["data"].get("text") == "after the resync" for f in numbered(r)),
                timeout=10,
            )
        )
        assert all(frame["seq"] > newest for frame in live), live
        await back.disconnect()

    run(scenario)
