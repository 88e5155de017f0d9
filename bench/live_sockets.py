"""``/ws/events`` clients for the live-event benchmarks.

``Holders`` keeps many idle authenticated sockets open from processes of their own, so
their file descriptors and CPU are not the measuring process's: each socket reads what
it is sent and pings every 20 s as the browser's ``live.js`` does, and each process
counts the sockets the server closed while they were meant to stay open.

``Listener`` is one socket in the measuring process, noting when each frame arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.harness import raise_file_limit

# As the browser does (static/web/live.js).
PING_EVERY = 20.0
OPEN_TIMEOUT = 120.0
# Handshakes in flight at once per holder process.
CONCURRENCY = 16
PING = json.dumps({"type": "ping"})


def events_url(ws_url: str, token: str, since: int | None = None) -> str:
    return f"{ws_url}?token={token}" + ("" if since is None else f"&since={since}")


# --- Idle sockets, held by other processes ------------------------------------------


@dataclass
class HoldStatus:
    """What the holder processes report, added up."""

    wanted: int = 0
    opened: int = 0
    failed: int = 0
    open_now: int = 0
    dropped: int = 0
    frames: int = 0
    connect_seconds: float = 0.0
    close_codes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, report: dict[str, Any]) -> None:
        self.wanted += report["wanted"]
        self.opened += report["opened"]
        self.failed += report["failed"]
        self.open_now += report["open_now"]
        self.dropped += report["dropped"]
        self.frames += report["frames"]
        self.connect_seconds = max(self.connect_seconds, report["connect_seconds"])
        self.close_codes.update(report["close_codes"])
        self.errors.update(report["errors"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "wanted": self.wanted,
            "opened": self.opened,
            "failed": self.failed,
            "open_now": self.open_now,
            "dropped": self.dropped,
            "frames": self.frames,
            "connect_seconds": round(self.connect_seconds, 2),
            "close_codes": dict(self.close_codes),
            "errors": dict(self.errors),
        }


class _Held:
    """The sockets of one holder process."""

    def __init__(self, ws_url: str, origin: str, tokens: list[str], wanted: int) -> None:
        self.ws_url = ws_url
        self.origin = origin
        self.tokens = tokens
        self.wanted = wanted
        self.sockets: list[ClientConnection] = []
        self.readers: set[asyncio.Task[None]] = set()
        self.opened = self.failed = self.frames = 0
        self.connect_seconds = 0.0
        self.close_codes: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.stopping = False

    def report(self) -> dict[str, Any]:
        return {
            "wanted": self.wanted,
            "opened": self.opened,
            "failed": self.failed,
            "open_now": sum(1 for ws in self.sockets if ws.close_code is None),
            "dropped": self.close_codes.total(),
            "frames": self.frames,
            "connect_seconds": self.connect_seconds,
            "close_codes": dict(self.close_codes),
            "errors": dict(self.errors),
        }

    async def open_all(self, give_up_after: float) -> None:
        """Open the sockets; those not open ``give_up_after`` seconds from now count as
        failed, so a server that cannot take them all still ends the benchmark."""
        started = time.monotonic()
        gate = asyncio.Semaphore(CONCURRENCY)
        opening = [asyncio.create_task(self._open(n, gate)) for n in range(self.wanted)]
        _, late = await asyncio.wait(opening, timeout=give_up_after)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        self.failed += len(late)
        if late:
            self.errors["not open in time"] += len(late)
        self.connect_seconds = time.monotonic() - started

    async def _open(self, n: int, gate: asyncio.Semaphore) -> None:
        url = events_url(self.ws_url, self.tokens[n % len(self.tokens)])
        for attempt in range(3):
            async with gate:
                try:
                    ws = await connect(
                        url,
                        origin=self.origin,  # type: ignore[arg-type]
                        open_timeout=OPEN_TIMEOUT,
                        ping_interval=None,  # the server pings; the library answers
                        close_timeout=10,
                    )
                except Exception as exc:  # counted and retried; reported in the end
                    self.errors[type(exc).__name__] += 1
                else:
                    self.opened += 1
                    self.sockets.append(ws)
                    reader = asyncio.create_task(self._read(ws))
                    self.readers.add(reader)
                    reader.add_done_callback(self.readers.discard)
                    return
            await asyncio.sleep(1 + attempt)
        self.failed += 1

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                self.frames += 1
        if not self.stopping:
            code = ws.close_code if ws.close_code is not None else "none"
            self.close_codes[str(code)] += 1

    async def ping(self) -> None:
        """Every socket pings once per ``PING_EVERY``, spread evenly over that time."""
        slots = 20
        for tick in range(10**9):
            await asyncio.sleep(PING_EVERY / slots)
            for ws in self.sockets[tick % slots :: slots]:
                if ws.close_code is None:
                    with contextlib.suppress(ConnectionClosed):
                        await ws.send(PING)

    async def close_all(self) -> None:
        self.stopping = True
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        for reader in list(self.readers):
            reader.cancel()


async def _serve_parent(conn: Connection, held: _Held, give_up_after: float) -> None:
    loop = asyncio.get_running_loop()
    await held.open_all(give_up_after)
    conn.send(held.report())
    pinger = asyncio.create_task(held.ping())
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "stop":
            pinger.cancel()
            final = held.report()
            await held.close_all()
            conn.send(final)
            return
        conn.send(held.report())


def _holder_main(
    conn: Connection,
    ws_url: str,
    origin: str,
    tokens: list[str],
    wanted: int,
    give_up_after: float,
) -> None:
    raise_file_limit(wanted + 256)
    held = _Held(ws_url, origin, tokens, wanted)
    asyncio.run(_serve_parent(conn, held, give_up_after))


class Holders:
    """Processes holding idle sockets. ``add`` opens more (and returns once they are all
    open, or ``give_up_after`` seconds have passed); ``status`` adds up the processes'
    reports; ``stop`` closes them."""

    def __init__(
        self,
        ws_url: str,
        origin: str,
        tokens: list[str],
        per_process: int,
        *,
        give_up_after: float,
    ) -> None:
        self.give_up_after = give_up_after
        self.ws_url = ws_url
        self.origin = origin
        self.tokens = tokens
        self.per_process = per_process
        self._context = multiprocessing.get_context("spawn")
        self._children: list[tuple[Any, Connection]] = []

    def add(self, count: int) -> HoldStatus:
        started = []
        while count > 0:
            wanted = min(count, self.per_process)
            count -= wanted
            # Each process starts with the users in another order, so one user's sockets
            # do not all open at once (they take turns on the user's row).
            tokens = random.sample(self.tokens, len(self.tokens))
            ours, theirs = self._context.Pipe()
            process = self._context.Process(
                target=_holder_main,
                args=(theirs, self.ws_url, self.origin, tokens, wanted, self.give_up_after),
                daemon=True,
            )
            process.start()
            started.append((process, ours))
        status = HoldStatus()
        for process, ours in started:
            status.add(self._answer(process, ours, self.give_up_after + 120))
        self._children.extend(started)
        return status

    def _answer(self, process: Any, conn: Connection, timeout: float = 60) -> dict[str, Any]:
        if not conn.poll(timeout):
            raise RuntimeError(f"a socket-holding process (pid {process.pid}) stopped answering")
        answer: dict[str, Any] = conn.recv()
        return answer

    def status(self) -> HoldStatus:
        status = HoldStatus()
        for process, conn in self._children:
            conn.send("status")
            status.add(self._answer(process, conn, 60))
        return status

    def stop(self) -> HoldStatus:
        """Close every socket; the status just before."""
        status = HoldStatus()
        for _, conn in self._children:
            with contextlib.suppress(OSError):
                conn.send("stop")
        for process, conn in self._children:
            with contextlib.suppress(Exception):
                status.add(self._answer(process, conn, 120))
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join(timeout=10)
        self._children = []
        return status

    def __enter__(self) -> Holders:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --- A measuring socket ----------------------------------------------------------------


class Listener:
    """One ``/ws/events`` socket in the measuring process: when each inbound message's
    ``message.created`` frame arrived (by the provider's message id), and the last seq."""

    def __init__(self, ws_url: str, origin: str, token: str) -> None:
        self.ws_url = ws_url
        self.origin = origin
        self.token = token
        self.arrived: dict[str, float] = {}  # provider message id -> time.monotonic()
        self.last_seq = 0
        self.seqs: list[int] = []
        self.closed_by_server: int | None = None
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pongs = 0
        self._pong = asyncio.Event()

    async def open(self, since: int | None = None) -> None:
        """Connect and return once the server is sending live events (and, with
        ``since``, has replayed the log): the pong to our ping follows ``connect``."""
        self._ws = await connect(
            events_url(self.ws_url, self.token, since),
            origin=self.origin,  # type: ignore[arg-type]
            open_timeout=OPEN_TIMEOUT,
            ping_interval=None,
            max_queue=None,
        )
        self._reader = asyncio.create_task(self._read(self._ws))
        await self.ping()

    async def ping(self, timeout: float = 120) -> None:
        assert self._ws is not None
        before = self._pongs
        self._pong.clear()
        await self._ws.send(PING)
        async with asyncio.timeout(timeout):
            while self._pongs == before:
                await self._pong.wait()
                self._pong.clear()

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in ws:
                now = time.monotonic()
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "pong":
                    self._pongs += 1
                    self._pong.set()
                    continue
                seq = frame.get("seq")
                if isinstance(seq, int):
                    self.seqs.append(seq)
                    self.last_seq = max(self.last_seq, seq)
                if kind == "message.created" and frame["data"].get("direction") == "in":
                    self.arrived.setdefault(frame["data"]["provider_message_id"], now)
        if self._ws is ws and ws.close_code is not None:
            self.closed_by_server = ws.close_code

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
