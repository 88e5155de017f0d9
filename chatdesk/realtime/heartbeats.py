"""Refreshing the Connection rows of one process's sockets together.

Every open socket proves it is alive now and then (the server's own beat, the client's
pings). One UPDATE per socket would be thousands of writes a minute with thousands of
sockets open, queued on the one thread that talks to the database, and a socket whose
refresh waits behind them stops reading. So refreshes asked for within a short window
are written together, one UPDATE for the lot, and each asker resumes once its row is
fresh.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

from channels.db import database_sync_to_async

from chatdesk.accounts.models import User
from chatdesk.flows import presence as presence_flow

# How long a refresh waits for others to join it (seconds).
GATHER_FOR = 0.05


@dataclass
class _Batch:
    users: dict[str, User] = field(default_factory=dict)
    waiting: list[asyncio.Future[None]] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None


_write = database_sync_to_async(presence_flow.connections_seen)


class Refresher:
    """One per event loop: gathers refreshes and writes them in one go."""

    def __init__(self) -> None:
        self._batch: _Batch | None = None

    async def refresh(self, *, channel_name: str, user: User, instance: str) -> None:
        """Return once the row of ``channel_name`` is fresh (re-opened if the sweep had
        removed it); raises what the write raised."""
        loop = asyncio.get_running_loop()
        batch = self._batch
        if batch is None:
            batch = self._batch = _Batch()
            batch.writer = loop.create_task(self._write_soon(batch, instance))
        batch.users[channel_name] = user
        done: asyncio.Future[None] = loop.create_future()
        batch.waiting.append(done)
        await done

    def forget(self, channel_name: str) -> None:
        """The socket closed: a refresh not yet written must not open its row again."""
        if self._batch is not None:
            self._batch.users.pop(channel_name, None)

    async def _write_soon(self, batch: _Batch, instance: str) -> None:
        await asyncio.sleep(GATHER_FOR)
        self._batch = None
        try:
            if batch.users:
                await _write(users=batch.users, instance=instance)
        except Exception as exc:
            for done in batch.waiting:
                if not done.done():
                    done.set_exception(exc)
        else:
            for done in batch.waiting:
                if not done.done():
                    done.set_result(None)


_refreshers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Refresher] = (
    weakref.WeakKeyDictionary()
)


def refresher() -> Refresher:
    loop = asyncio.get_running_loop()
    found = _refreshers.get(loop)
    if found is None:
        found = _refreshers[loop] = Refresher()
    return found
