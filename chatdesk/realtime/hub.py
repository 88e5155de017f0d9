"""One hub per event loop (per app process): receives every numbered event once, puts
them in ``seq`` order, fills any gap from the log, and offers each to the local
connections allowed to see it. A connection's buffer is bounded; one that fills up is
marked overflowed, never waited for, so a stalled browser cannot slow anyone else."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import redis
import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from django.conf import settings

from chatdesk.chats.access import Viewer, can_see, viewer_from
from chatdesk.realtime import log as live_log
from chatdesk.realtime import transport
from chatdesk.realtime.log import LiveEnvelope
from chatdesk.realtime.models import LiveEvent, LiveEventType

log = logging.getLogger(__name__)

# Read from the log at most this many events per round.
FETCH_BATCH = 1000

# Offer this many events (at most a quarter of a connection's buffer), then let the
# senders run.
OFFER_CHUNK = 50


class Overflow:
    """Put in place of the events a connection could not take."""


OVERFLOW = Overflow()


class Subscription:
    """One connection's bounded buffer of frames waiting to be sent."""

    def __init__(
        self,
        viewer: Viewer,
        limit: int,
        on_control: Callable[[dict[str, Any]], None],
        on_overflow: Callable[[], None] = lambda: None,
        on_viewer: Callable[[Viewer], None] = lambda _: None,
    ):
        self.viewer = viewer
        self.on_viewer = on_viewer
        self.limit = limit
        self.on_control = on_control
        # Called once, when the buffer overflows: the connection's sender may be stuck
        # writing to a client that reads nothing, and so never come back to ``get``.
        self.on_overflow = on_overflow
        self.overflowed = False
        self._frames: collections.deque[tuple[int, str]] = collections.deque()
        self._ready = asyncio.Event()

    def offer(self, seq: int, text: str) -> None:
        if self.overflowed:
            return
        if len(self._frames) >= self.limit:
            self.overflowed = True
            self._frames.clear()  # the client will reload; free the memory now
            try:
                self.on_overflow()
            except Exception:
                log.exception("live events: a connection could not handle its overflow")
        else:
            self._frames.append((seq, text))
        self._ready.set()

    async def get(self) -> tuple[int, str] | Overflow:
        while True:
            if self.overflowed:
                return OVERFLOW
            if self._frames:
                return self._frames.popleft()
            self._ready.clear()
            await self._ready.wait()

    def __len__(self) -> int:
        return len(self._frames)


def _fetch_after(seq: int) -> list[LiveEnvelope]:
    rows = LiveEvent.objects.filter(seq__gt=seq).order_by("seq")[:FETCH_BATCH]
    return [live_log.as_dict(row) for row in rows]


_fetch = database_sync_to_async(_fetch_after)
_latest = database_sync_to_async(live_log.latest_seq)
_channel_name = database_sync_to_async(transport.channel_name)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.last = 0  # every event up to here has been offered
        self.subscriptions: set[Subscription] = set()
        # Who may be sent what, so an event is checked only against the connections it
        # may concern (a supervisor's, its agents', its queue's) and not every one open.
        self._overseers: set[Subscription] = set()
        self._by_user: dict[int, set[Subscription]] = collections.defaultdict(set)
        self._by_department: dict[int, set[Subscription]] = collections.defaultdict(set)
        self._inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.redis_connected = False

    async def start(self) -> None:
        self.last = await _latest()
        self._tasks = [
            asyncio.create_task(self._process(), name="live-hub"),
            asyncio.create_task(self._poll(), name="live-hub-poll"),
        ]
        if settings.REDIS_URL:
            name = await _channel_name()
            self._tasks.append(asyncio.create_task(self._listen(name), name="live-hub-redis"))
        transport.register(self)

    async def stop(self) -> None:
        transport.unregister(self)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- Subscriptions ---------------------------------------------------------------

    def subscribe(
        self,
        viewer: Viewer,
        on_control: Callable[[dict[str, Any]], None] = lambda _: None,
        on_overflow: Callable[[], None] = lambda: None,
        on_viewer: Callable[[Viewer], None] = lambda _: None,
    ) -> Subscription:
        subscription = Subscription(
            viewer,
            int(settings.CHATDESK_WS_BUFFER),
            on_control=on_control,
            on_overflow=on_overflow,
            on_viewer=on_viewer,
        )
        self.subscriptions.add(subscription)
        self._index(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self.subscriptions:
            self.subscriptions.discard(subscription)
            self._unindex(subscription)

    def _index(self, subscription: Subscription) -> None:
        viewer = subscription.viewer
        self._by_user[viewer.user_id].add(subscription)
        if viewer.oversees:
            self._overseers.add(subscription)
        for department_id in viewer.queue_ids:
            self._by_department[department_id].add(subscription)

    def _unindex(self, subscription: Subscription) -> None:
        """Forget the subscription under the viewer it was indexed with."""
        viewer = subscription.viewer
        _discard(self._by_user, viewer.user_id, subscription)
        self._overseers.discard(subscription)
        for department_id in viewer.queue_ids:
            _discard(self._by_department, department_id, subscription)

    def _candidates(self, event: Mapping[str, Any]) -> Iterable[Subscription]:
        """The connections that may see ``event`` (``can_see`` still decides): a superset
        of them, found through the index rather than by asking every connection."""
        if event.get("user_id") is not None:
            return list(self._by_user.get(event["user_id"], ()))
        if event.get("everyone"):
            return list(self.subscriptions)
        found = set(self._overseers)
        for user_id in (event.get("agent_id"), event.get("previous_agent_id")):
            if user_id is not None:
                found.update(self._by_user.get(user_id, ()))
        for department_id in (event.get("department_id"), event.get("previous_department_id")):
            if department_id is not None:
                found.update(self._by_department.get(department_id, ()))
        return found

    # --- Input -----------------------------------------------------------------------

    def deliver_threadsafe(self, message: dict[str, Any]) -> None:
        """From any thread of this process."""
        with contextlib.suppress(RuntimeError):  # the loop has closed
            self.loop.call_soon_threadsafe(self._inbox.put_nowait, message)

    async def _poll(self) -> None:
        every = float(settings.CHATDESK_EVENTS_POLL)
        while True:
            await asyncio.sleep(every)
            if self._inbox.empty():
                self._inbox.put_nowait(None)  # "read the log"

    async def _listen(self, name: str) -> None:
        backoff = 0.2
        while True:
            client = aioredis.Redis.from_url(str(settings.REDIS_URL))
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(name)
                    self.redis_connected = True
                    backoff = 0.2
                    self._inbox.put_nowait(None)  # catch up on what went by meanwhile
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        with contextlib.suppress(ValueError):
                            self._inbox.put_nowait(json.loads(message["data"]))
            except (redis.RedisError, OSError):
                log.warning("live events: Redis unreachable; reading the log until it returns")
            finally:
                self.redis_connected = False
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    # --- Ordering and fan-out --------------------------------------------------------

    async def _process(self) -> None:
        while True:
            messages = [await self._inbox.get()]
            while not self._inbox.empty():
                messages.append(self._inbox.get_nowait())
            try:
                await self._handle(messages)
            except Exception:  # a database hiccup: the next poll tries again
                log.exception("live events: could not read the log; trying again")
                await asyncio.sleep(0.5)

    async def _handle(self, messages: list[dict[str, Any] | None]) -> None:
        arrived: dict[int, dict[str, Any]] = {}
        read_log = False
        for message in messages:
            if message is None:
                read_log = True
                continue
            if "control" in message:
                self._control(message["control"])
                continue
            for event in message.get("events", ()):
                if event["seq"] > self.last:
                    arrived[event["seq"]] = event
        if arrived:
            seqs = sorted(arrived)
            if seqs[0] == self.last + 1 and seqs[-1] - seqs[0] + 1 == len(seqs):
                await self._offer_all(arrived[seq] for seq in seqs)
            else:
                read_log = True  # a gap: what is missing is already in the log
        if read_log:
            while True:
                batch = await _fetch(self.last)
                await self._offer_all(batch)
                if len(batch) < FETCH_BATCH:
                    break

    async def _offer_all(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Offer in order, letting the connections' senders run every few events: a
        burst (a long read of the log) flows through the buffers instead of filling them,
        so only a client that really stops reading overflows."""
        chunk = max(1, min(OFFER_CHUNK, int(settings.CHATDESK_WS_BUFFER) // 4))
        for count, event in enumerate(events, start=1):
            if event["seq"] > self.last:
                self._offer(event)
            if count % chunk == 0:
                await asyncio.sleep(0)

    def _offer(self, event: Mapping[str, Any]) -> None:
        self.last = event["seq"]
        if event["type"] == LiveEventType.USER_CHANGED:
            self._readdress(viewer_from(event["data"]))
            return
        text: str | None = None
        for subscription in self._candidates(event):
            if can_see(subscription.viewer, event):
                if text is None:
                    text = json.dumps(live_log.frame(event), separators=(",", ":"))
                subscription.offer(event["seq"], text)

    def _readdress(self, viewer: Viewer) -> None:
        """From here on in the order of events, the user's sockets see what ``viewer``
        may see."""
        for subscription in list(self._by_user.get(viewer.user_id, ())):
            if subscription in self.subscriptions:
                self._unindex(subscription)
                subscription.viewer = viewer
                self._index(subscription)
                try:
                    subscription.on_viewer(viewer)
                except Exception:
                    log.exception("live events: a connection could not take a user change")

    def _control(self, message: dict[str, Any]) -> None:
        for subscription in list(self.subscriptions):
            try:
                subscription.on_control(message)
            except Exception:
                log.exception("live events: a connection could not handle %r", message)


def _discard(index: dict[int, set[Subscription]], key: int, subscription: Subscription) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(subscription)
        if not members:
            del index[key]


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}
_starting: dict[asyncio.AbstractEventLoop, asyncio.Future[Hub]] = {}


async def get_hub() -> Hub:
    """The hub of the running loop, started on first use."""
    loop = asyncio.get_running_loop()
    for other in [other for other in _hubs if other.is_closed()]:
        transport.unregister(_hubs.pop(other))
    hub = _hubs.get(loop)
    if hub is not None:
        return hub
    starting = _starting.get(loop)
    if starting is not None:
        return await asyncio.shield(starting)
    future: asyncio.Future[Hub] = loop.create_future()
    _starting[loop] = future
    try:
        hub = Hub(loop)
        await hub.start()
        _hubs[loop] = hub
        future.set_result(hub)
        return hub
    except BaseException as exc:
        future.set_exception(exc)
        raise
    finally:
        _starting.pop(loop, None)
