"""An open-loop HTTP load generator: requests go out on a fixed schedule whether or not the
earlier ones have been answered, so a server that falls behind shows it as latency (measured
from each request's scheduled time, not from when a free connection let it go out) instead
of quietly being offered less.

HTTP/1.1 is spoken directly over asyncio streams with keep-alive connections: a client
library's own per-request cost would otherwise eat the CPU the server under test needs on a
small machine. One request per connection at a time (no pipelining); a new connection is
opened whenever every open one is busy, up to ``max_connections``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.harness import percentile

# The latency quantiles kept for each step (the distribution plotted in the report).
QUANTILES = (50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 100.0)
# An idle keep-alive connection older than this (seconds) is closed rather than reused.
IDLE_REUSE = 2.0


@dataclass
class Outcome:
    """One request: its latency from the scheduled send (seconds), the HTTP status (0 when
    the connection failed or the answer did not come in time), and the body."""

    latency: float
    status: int
    body: bytes = b""


@dataclass
class Step:
    """What one fixed rate produced."""

    offered_rate: float
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    elapsed: float = 0.0  # from the first scheduled send to the last answer
    connections: int = 0  # the most connections open at once

    @property
    def accepted(self) -> int:
        return sum(1 for o in self.outcomes if o.status == 200)

    @property
    def errors(self) -> int:
        return len(self.outcomes) - self.accepted

    @property
    def throughput(self) -> float:
        """Answers with 200 per second, over the whole step."""
        return self.accepted / self.elapsed if self.elapsed > 0 else 0.0

    def latency_ms(self, q: float) -> float | None:
        value = percentile([o.latency for o in self.outcomes], q)
        return None if value is None else value * 1000

    def sustained(self, p99_ms: float) -> bool:
        p99 = self.latency_ms(99)
        return self.errors == 0 and p99 is not None and p99 <= p99_ms

    def summary(self) -> dict[str, object]:
        statuses: dict[str, int] = {}
        for outcome in self.outcomes:
            key = str(outcome.status) if outcome.status else "no answer"
            statuses[key] = statuses.get(key, 0) + 1
        return {
            "offered_rate": self.offered_rate,
            "seconds": self.seconds,
            "sent": len(self.outcomes),
            "accepted": self.accepted,
            "errors": self.errors,
            "statuses": dict(sorted(statuses.items())),
            "throughput": round(self.throughput, 1),
            "connections": self.connections,
            "latency_ms": {_label(q): _round(self.latency_ms(q)) for q in QUANTILES},
        }


def _label(q: float) -> str:
    return "max" if q == 100 else f"p{q:g}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def http_request(path: str, body: bytes, headers: dict[str, str], host: str) -> bytes:
    """The bytes of one HTTP/1.1 POST."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Connections:
    """Idle keep-alive connections, and how many are open."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.open = 0
        self.most = 0
        self.freed = asyncio.Condition()

    async def take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while True:
            while self.idle:
                reader, writer, last_used = self.idle.pop()
                if time.perf_counter() - last_used < IDLE_REUSE and not reader.at_eof():
                    return reader, writer
                # The server may be closing it (uvicorn's keep-alive lasts 5 s): a request
                # written now could meet the close. Never reuse it.
                self.open -= 1
                writer.close()
            if self.open < self.limit:
                self.open += 1
                self.most = max(self.most, self.open)
                try:
                    return await asyncio.open_connection(self.host, self.port)
                except BaseException:
                    self.open -= 1
                    raise
            async with self.freed:
                await self.freed.wait()

    async def give_back(
        self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], *, reusable: bool
    ) -> None:
        if reusable:
            self.idle.append((*conn, time.perf_counter()))
        else:
            self.open -= 1
            conn[1].close()
        async with self.freed:
            self.freed.notify()

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()
        self.idle.clear()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Status, whether the connection may be reused, and the body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            chunks.append(chunk[:-2])
        body = b"".join(chunks)
    else:
        return status, False, await reader.read()
    return status, headers.get("connection", "").lower() != "close", body


async def offer(
    host: str,
    port: int,
    requests: Sequence[bytes],
    rate: float,
    *,
    timeout: float = 10.0,
    max_connections: int = 1000,
) -> Step:
    """Send ``requests`` at ``rate`` per second on schedule; wait for every answer (or its
    timeout) and return what happened."""
    pool = _Connections(host, port, max_connections)
    step = Step(offered_rate=rate, seconds=len(requests) / rate)

    async def one(raw: bytes, scheduled: float) -> Outcome:
        conn = None
        try:
            async with asyncio.timeout(timeout):
                conn = await pool.take()
                conn[1].write(raw)
                status, reusable, body = await _read_response(conn[0])
            outcome = Outcome(time.perf_counter() - scheduled, status, body)
            await pool.give_back(conn, reusable=reusable)
            return outcome
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            if conn is not None:
                await pool.give_back(conn, reusable=False)
            return Outcome(time.perf_counter() - scheduled, 0)

    # perf_counter, not the loop's clock: uvloop's counts whole milliseconds.
    start = time.perf_counter() + 0.05
    tasks = []
    for n, raw in enumerate(requests):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(raw, scheduled)))
    step.outcomes = list(await asyncio.gather(*tasks))
    step.elapsed = max((start + o.latency for o in step.outcomes), default=start) - start
    step.elapsed = max(step.elapsed, step.seconds)
    step.connections = pool.most
    pool.close()
    return step


def run_step(
    host: str,
    port: int,
    requests: Sequence[bytes],
    rate: float,
    *,
    timeout: float = 10.0,
    max_connections: int = 1000,
) -> Step:
    """``offer`` on a fresh event loop, uvloop's: the generator's own cost matters on a
    small machine, where it shares the CPUs with the server it measures."""
    import uvloop

    return uvloop.run(
        offer(host, port, requests, rate, timeout=timeout, max_connections=max_connections)
    )
