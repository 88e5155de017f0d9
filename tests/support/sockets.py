"""Helpers for live-event tests over real sockets: ``chatdesk serve`` instances sharing
one scratch database, signed WhatsApp webhooks posted to them, ``/ws/events`` clients
read by a thread of their own, and a client that stops reading after the handshake."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame as WireFrame
from websockets.frames import Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect
from websockets.typing import Origin
from websockets.uri import parse_uri

from chatdesk.providers.adapters import whatsapp
from tests.support.processes import Desk, Started, free_port, get, wait_for

APP_SECRET = "meta-app-secret"
PHONE_NUMBER_ID = "106540352242922"

Frame = dict[str, Any]


@dataclass(frozen=True)
class DeskSetup:
    """What ``set_up`` made in the scratch database."""

    channel_id: int
    supervisor_id: int
    token: str


def set_up(desk: Desk) -> DeskSetup:
    """A WhatsApp channel with a known app secret, and Sam, a supervisor (who may see
    every chat's events), with an API token."""
    made = desk.query(
        f"""
        import json
        from chatdesk.accounts.models import Role
        from chatdesk.accounts.services import create_user, issue_api_token
        from chatdesk.providers.models import Channel, ChannelKind
        from chatdesk.routing.models import Department

        sales = Department.objects.create(name="Sales")
        channel = Channel.objects.create(
            kind=ChannelKind.WHATSAPP,
            name="WhatsApp",
            department=sales,
            config={{"phone_number_id": "{PHONE_NUMBER_ID}",
                     "graph_api_url": "http://127.0.0.1:9/v21.0"}},
            secrets={{"access_token": "EAAG-token", "app_secret": "{APP_SECRET}",
                      "verify_token": "verify-me"}},
        )
        sam = create_user(username="sam", password=None, role=Role.SUPERVISOR,
                          display_name="Sam Supervisor")
        print(json.dumps({{"channel_id": channel.pk, "supervisor_id": sam.pk,
                          "token": issue_api_token(user=sam, name="test")}}))
        """
    )
    return DeskSetup(**made)


@dataclass
class Server:
    """One ``chatdesk serve`` process."""

    started: Started
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.started.pid

    def events_url(self, token: str, *, since: int | None = None) -> str:
        query = f"token={token}" if since is None else f"token={token}&since={since}"
        return f"ws://127.0.0.1:{self.port}/ws/events?{query}"

    def rss_kib(self) -> int:
        """The server process's resident memory (Linux), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError(f"no VmRSS for process {self.pid}")

    def assert_no_traceback(self) -> None:
        output = self.started.output()
        assert "Traceback" not in output, output


@contextmanager
def serving(desk: Desk, name: str, **env: str) -> Iterator[Server]:
    """``chatdesk serve`` on a free port against ``desk``'s database, with ``env`` added
    to its environment; its output goes to a folder of its own."""
    home = desk.home / name
    home.mkdir()
    instance = Desk(url=desk.url, env={**desk.env, **env}, home=home)
    port = free_port()
    with instance.start("serve", "--port", str(port), "--log-level", "warning") as started:
        server = Server(started, port)

        def up() -> httpx.Response | None:
            if started.process.poll() is not None:
                raise AssertionError(f"{name} exited:\n{started.output()}")
            return get(f"{server.base}/healthz")

        wait_for(up, timeout=30, what=f"{name} to listen")
        yield server


def whatsapp_texts(*texts: str, first_id: str, sender: str = "27821234567") -> bytes:
    """A webhook body as Meta sends it: ``texts`` from one customer, ids
    ``{first_id}.0``, ``{first_id}.1``, ..."""
    messages = [
        {
            "from": sender,
            "id": f"{first_id}.{n}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": text},
        }
        for n, text in enumerate(texts)
    ]
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Carol Customer"}, "wa_id": sender}],
        "messages": messages,
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(payload).encode()


def post_webhook(server: Server, setup: DeskSetup, body: bytes) -> None:
    """Post a WhatsApp webhook signed with the channel's app secret; every message in it
    must be stored."""
    response = httpx.post(
        f"{server.base}/webhooks/whatsapp/{setup.channel_id}",
        content=body,
        headers={
            "Content-Type": "application/json",
            whatsapp.SIGNATURE_HEADER: whatsapp.signature_for(body, APP_SECRET),
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    sent = len(json.loads(body)["entry"][0]["changes"][0]["value"]["messages"])
    assert response.json()["stored"] == sent, response.json()


def inbound_texts(frames: list[Frame]) -> list[str]:
    """The texts of the customers' messages among ``frames``, leaving out the desk's
    automatic replies (which depend on the business hours at the time of the run)."""
    return [
        frame["data"]["text"]
        for frame in frames
        if frame.get("type") == "message.created" and frame["data"]["direction"] == "in"
    ]


def seqs(frames: list[Frame]) -> list[int]:
    return [frame["seq"] for frame in frames if "seq" in frame]


def visible_log(desk: Desk, setup: DeskSetup, *, after: int) -> list[tuple[int, str]]:
    """(seq, type) of every numbered event after ``after`` that the supervisor may see,
    read from the log."""
    rows = desk.query(
        f"""
        import json
        from chatdesk.accounts.models import User
        from chatdesk.chats.access import viewer_for, visible_events

        sam = User.objects.get(pk={setup.supervisor_id})
        rows = visible_events(viewer_for(sam)).filter(seq__gt={after}).order_by("seq")
        print(json.dumps(list(rows.values_list("seq", "type"))))
        """
    )
    return [(seq, type) for seq, type in rows]


def latest_seq(desk: Desk) -> int:
    seq: int = desk.query("from chatdesk.realtime.log import latest_seq\nprint(latest_seq())")
    return seq


def connection_count(desk: Desk) -> int:
    count: int = desk.query(
        "from chatdesk.accounts.models import Connection\nprint(Connection.objects.count())"
    )
    return count


class Reader:
    """A ``/ws/events`` client whose frames a thread reads as they come, so a slow test
    never makes it a slow client; ``until`` waits for what the test expects."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[Frame] = []
        self.arrived: list[float] = []  # time.monotonic() of each frame
        self.close_code: int | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for text in self.connection:
                with self._lock:
                    self.frames.append(json.loads(text))
                    self.arrived.append(time.monotonic())
        except ConnectionClosed:
            pass
        rcvd = self.connection.protocol.close_rcvd
        self.close_code = rcvd.code if rcvd is not None else None

    def received(self) -> list[Frame]:
        with self._lock:
            return list(self.frames)

    def until(
        self, done: Callable[[list[Frame]], bool], *, timeout: float, what: str
    ) -> list[Frame]:
        """Every frame so far, once ``done`` holds for them."""

        def check() -> list[Frame] | None:
            frames = self.received()
            if done(frames):
                return frames
            if not self._thread.is_alive():
                raise AssertionError(f"closed ({self.close_code}) while waiting for {what}")
            return None

        try:
            return wait_for(check, timeout=timeout, what=what, interval=0.01)
        except AssertionError as exc:
            frames = self.received()
            raise AssertionError(
                f"{exc} Received {len(frames)}: ...{summary(frames[-10:])}"
            ) from None

    def ping(self, *, timeout: float = 10) -> None:
        """Send our ping and wait for its pong: the consumer has finished connecting (it
        handles a frame only once ``connect`` returned), so it is listening."""
        before = sum(1 for frame in self.received() if frame.get("type") == "pong")
        self.connection.send('{"type": "ping"}')
        self.until(
            lambda frames: sum(1 for f in frames if f.get("type") == "pong") > before,
            timeout=timeout,
            what="the pong",
        )

    def close(self) -> None:
        self.connection.close()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()


@contextmanager
def reading(url: str, origin: str) -> Iterator[Reader]:
    """Connect to ``/ws/events`` and read every frame in the background."""
    with ws_connect(url, origin=Origin(origin)) as connection:
        reader = Reader(connection)
        try:
            yield reader
        finally:
            reader.close()


def summary(frames: list[Frame]) -> list[tuple[Any, Any]]:
    return [(frame.get("seq"), frame.get("type")) for frame in frames]


class StalledClient:
    """A ``/ws/events`` client that completes the handshake and then reads nothing, with
    a small receive buffer, as a frozen browser tab on a bad network."""

    def __init__(self, url: str, origin: str, *, receive_buffer: int = 4096) -> None:
        address = parse_uri(url)
        self.protocol = ClientProtocol(address, origin=Origin(origin))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connecting, so the TCP window is small from the start.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.connect((address.host, address.port))
        self.sock.settimeout(10)
        self.protocol.send_request(self.protocol.connect())
        self.sock.sendall(b"".join(self.protocol.data_to_send()))
        while self.protocol.state is State.CONNECTING:
            data = self.sock.recv(4096)
            assert data, "the server closed the connection during the handshake"
            self.protocol.receive_data(data)
        response, *early = self.protocol.events_received()
        assert isinstance(response, Response) and response.status_code == 101, response
        self.frames: list[Frame] = []
        self._keep(early)

    def _keep(self, events: list[Request | Response | WireFrame]) -> None:
        for event in events:
            if isinstance(event, WireFrame) and event.opcode is Opcode.TEXT:
                self.frames.append(json.loads(bytes(event.data)))

    def read_to_the_end(self, *, timeout: float) -> tuple[list[Frame], int | None]:
        """Read at last: every frame the server queued, then how it closed: the close
        code it sent, or None when the connection ended without one."""
        deadline = time.monotonic() + timeout
        while self.protocol.close_rcvd is None:
            left = deadline - time.monotonic()
            assert left > 0, f"no close frame after {timeout:.0f} s; frames: {summary(self.frames)}"
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 20)
            except ConnectionResetError:
                data = b""
            if not data:
                self.protocol.receive_eof()
                break
            self.protocol.receive_data(data)
            self._keep(self.protocol.events_received())
        rcvd = self.protocol.close_rcvd
        return self.frames, rcvd.code if rcvd is not None else None

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> StalledClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
