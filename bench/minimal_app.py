"""The ingest benchmark's limit: the least a server can do with a WhatsApp webhook and still
be correct. A raw ASGI app (no framework) that checks the same ``X-Hub-Signature-256``
HMAC over the raw body and stores each message once with ``INSERT … ON CONFLICT DO
NOTHING`` on a unique provider message id, through psycopg's async driver and a fixed set
of open connections, on the same PostgreSQL server as the desk.

Served by uvicorn in its own process (the same server and event loop the desk runs on)::

    MINIMAL_DATABASE_URL=postgres://… MINIMAL_APP_SECRET=… \\
        python -m uvicorn bench.minimal_app:app --port 8001

Everything the desk does beyond this (contacts, chats, routing, live events) is what the
ratio ours ÷ limit prices.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TABLE = "bench_minimal_message"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    channel_id integer NOT NULL,
    provider_message_id varchar(128) NOT NULL,
    sender varchar(32) NOT NULL,
    text text NOT NULL,
    provider_timestamp bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, provider_message_id)
)
"""
INSERT = f"""
INSERT INTO {TABLE} (channel_id, provider_message_id, sender, text, provider_timestamp)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (channel_id, provider_message_id) DO NOTHING
"""
PATH = re.compile(r"^/webhooks/whatsapp/(\d+)$")
# About as many connections as the desk's server thread pool can use at once.
POOL_SIZE = int(os.environ.get("MINIMAL_POOL_SIZE", "8"))


class Pool:
    """A fixed set of open connections handed out one request at a time."""

    def __init__(self, url: str, size: int) -> None:
        self.url, self.size = url, size
        self.idle: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.size):
            self.idle.put_nowait(await psycopg.AsyncConnection.connect(self.url, autocommit=True))

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        conn = await self.idle.get()
        try:
            yield conn
        finally:
            if conn.closed:  # replace a connection the server dropped
                conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            self.idle.put_nowait(conn)

    async def close(self) -> None:
        while not self.idle.empty():
            await self.idle.get_nowait().close()


class MinimalApp:
    def __init__(self) -> None:
        self.secret = os.environ.get("MINIMAL_APP_SECRET", "").encode()
        self.pool = Pool(os.environ.get("MINIMAL_DATABASE_URL", ""), POOL_SIZE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http":
            status, answer = await self.webhook(scope, receive)
            body = json.dumps(answer).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.pool.open()
                async with self.pool.connection() as conn:
                    await conn.execute(CREATE_TABLE)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def webhook(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, Any]]:
        match = PATH.match(scope["path"])
        if match is None or scope["method"] != "POST":
            return 404, {"detail": "Only POST /webhooks/whatsapp/<channel id> is served."}
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        header = dict(scope["headers"]).get(b"x-hub-signature-256", b"")
        expected = b"sha256=" + hmac.new(self.secret, raw, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(header.strip(), expected):
            return 403, {"detail": "The X-Hub-Signature-256 header does not match the body."}
        try:
            rows = [
                (
                    int(match.group(1)),
                    str(m["id"]),
                    str(m["from"]),
                    str(m.get("text", {}).get("body", "")),
                    int(m["timestamp"]),
                )
                for entry in json.loads(raw)["entry"]
                for change in entry["changes"]
                for m in change["value"].get("messages", [])
            ]
        except (ValueError, KeyError, TypeError, AttributeError):
            return 400, {"detail": "This is not a WhatsApp webhook payload."}
        stored = 0
        async with self.pool.connection() as conn:
            for row in rows:
                cursor = await conn.execute(INSERT, row)
                stored += cursor.rowcount
        return 200, {"stored": stored, "duplicates": len(rows) - stored}


app = MinimalApp()
