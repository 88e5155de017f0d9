"""The moving parts of the chaos tests: a PostgreSQL cluster and a Redis server of the
tests' own (so they can be stopped without disturbing anything else), ``chatdesk``
processes that can be stopped and started again on the same port, a provider that posts
signed webhooks continuously and retries every one not answered 2xx (as Meta does), and a
crowd of ``/ws/events`` clients that reconnect with ``?since=`` like the browser does.

Every wait is bounded by a deadline; whatever a test started is stopped when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from psycopg import sql
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Origin

from bench.meta_payloads import text_webhook
from chatdesk.providers.adapters import whatsapp
from tests.support.processes import Desk, free_port, get, group_members, wait_for
from tests.support.scratch import CHATDESK, subprocess_env
from tests.support.sockets import APP_SECRET, PHONE_NUMBER_ID

# --- Scale -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """How big a run is: ``make test`` runs small; ``make chaos`` (the environment
    variable CHATDESK_CHAOS_SCALE=full) runs at the sizes the reliability issue names."""

    full: bool
    sockets: int  # Redis restart and PostgreSQL outage
    rolling_sockets: int  # the rolling restart
    rate: float  # webhooks per second while under load
    redis_down: float  # seconds
    postgres_down: float  # seconds
    rolling_rounds: int  # instances stopped one after the other
    load_before: float  # seconds of load before the fault
    load_after: float  # seconds of load after it


def scale() -> Scale:
    if os.environ.get("CHATDESK_CHAOS_SCALE", "").strip().lower() == "full":
        return Scale(
            full=True,
            sockets=200,
            rolling_sockets=1000,
            rate=20.0,
            redis_down=10.0,
            postgres_down=30.0,
            rolling_rounds=4,
            load_before=5.0,
            load_after=10.0,
        )
    return Scale(
        full=False,
        sockets=20,
        rolling_sockets=60,
        rate=10.0,
        redis_down=3.0,
        postgres_down=6.0,
        rolling_rounds=2,
        load_before=2.0,
        load_after=3.0,
    )


# --- Services of the tests' own -------------------------------------------------------


def _stop_process(process: subprocess.Popen[bytes], sig: int, timeout: float) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class PrivateRedis:
    """``redis-server`` on a port of its own, no persistence; ``stop`` and ``start`` again
    on the same port is a restart."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("These tests need redis-server on PATH (apt: redis-server).")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 30) -> None:
        assert self.process is None or self.process.poll() is not None
        self.starts += 1
        with (self.folder / f"redis.{self.starts}.log").open("wb") as out:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def answers() -> bool:
            assert self.process is not None and self.process.poll() is None, "redis exited"
            client = redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False
            finally:
                client.close()

        wait_for(answers, timeout=timeout, what="the private Redis to answer")

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """SIGKILL by default: a crash, the harshest restart."""
        if self.process is not None:
            _stop_process(self.process, sig, timeout=30)


def postgres_bindir() -> Path:
    """Where ``initdb`` and ``postgres`` live: ``pg_config --bindir``, else the usual
    Debian folders, else PATH."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    raise AssertionError("These tests need PostgreSQL's server programs (initdb, postgres).")


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, on a port of its own. PostgreSQL will
    not run as root, so as root the cluster belongs to the ``postgres`` user."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="chatdesk-chaos-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        result = subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            **self._user(),
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def _user(self) -> dict[str, Any]:
        if self._as_root:
            return {"user": "postgres", "group": "postgres", "extra_groups": []}
        return {}

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self, *, timeout: float = 60) -> None:
        assert self.process is None or self.process.poll() is not None
        self.starts += 1
        log = self.root / f"postgres.{self.starts}.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.root),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=300",
                ],
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._user(),
            )

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"postgres exited:\n{log.read_text()}")
            try:
                with psycopg.connect(self.url(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return True
            except psycopg.OperationalError:
                return False

        wait_for(answers, timeout=timeout, what="the private PostgreSQL to answer")

    def stop(self, sig: int = signal.SIGINT) -> None:
        """SIGINT is PostgreSQL's fast shutdown: every session is cut off at once."""
        if self.process is not None:
            _stop_process(self.process, sig, timeout=60)

    def create_database(self) -> str:
        name = f"chaos_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def destroy(self) -> None:
        self.stop(signal.SIGQUIT)
        shutil.rmtree(self.root, ignore_errors=True)


# --- The desk's processes ---------------------------------------------------------------


def chaos_desk(home: Path, database_url: str, **env: str) -> Desk:
    """A migrated desk on ``database_url``, whatever database the suite itself runs on."""
    home.mkdir(parents=True, exist_ok=True)
    desk = Desk(url=database_url, env=subprocess_env(database_url, home / "var", **env), home=home)
    desk.migrate()
    return desk


class App:
    """One ``chatdesk`` process (``serve`` or ``worker``) that can be stopped and started
    again, a serve on the same port each time; each run's output in files of its own."""

    def __init__(self, desk: Desk, name: str, kind: str = "serve") -> None:
        self.desk = desk
        self.name = name
        self.kind = kind
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.outputs: list[Path] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        if self.kind == "serve":
            return [CHATDESK, "serve", "--port", str(self.port), "--log-level", "warning"]
        return [CHATDESK, "worker", "--interval", "0.2"]

    def start(self, *, timeout: float = 60) -> None:
        assert not self.running()
        self.runs += 1
        path = self.desk.home / f"{self.name}.{self.runs}.log"
        self.outputs.append(path)
        with path.open("wb") as out:
            self.process = subprocess.Popen(
                self.argv(),
                env=self.desk.env,
                cwd=self.desk.home,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.kind == "serve":

            def up() -> httpx.Response | None:
                if not self.running():
                    raise AssertionError(f"{self.name} exited:\n{self.output()}")
                return get(f"{self.base}/healthz")

            wait_for(up, timeout=timeout, what=f"{self.name} to listen")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, *, timeout: float = 60) -> float:
        """Signal the process and wait for it to end; how long it took."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.name} still running {timeout:.0f} s after signal {sig}:\n"
                f"{self.output()[-3000:]}"
            ) from None
        return time.monotonic() - began

    def kill(self) -> None:
        """Whatever is left of the process and its group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        for pid in group_members(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def output(self) -> str:
        return "".join(path.read_text(errors="replace") for path in self.outputs)


@contextlib.contextmanager
def running(*apps: App) -> Iterator[None]:
    """Start ``apps``; whatever happens, none outlives the test."""
    try:
        for app in apps:
            app.start()
        yield
    finally:
        for app in apps:
            app.kill()


ACCESS_TOKEN = "EAAG-chaos-token"

# --- The desk's people --------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    username: str
    user_id: int
    token: str


@dataclass(frozen=True)
class Setup:
    channel_id: int
    people: dict[str, Person]


def set_up_desk(desk: Desk, *, graph_api_url: str = "http://127.0.0.1:9/v21.0") -> Setup:
    """A WhatsApp channel in Sales with a known app secret; Sam and Sue supervise, Alice
    is an agent in Sales (not available, so new chats wait as Sales tickets, which she
    sees), Dave an agent in Support (who sees only who is online). Each has an API
    token. The channel sends to ``graph_api_url``."""
    made = desk.query(
        f"""
        import json
        from chatdesk.accounts.models import Role
        from chatdesk.accounts.services import create_user, issue_api_token
        from chatdesk.providers.models import Channel, ChannelKind
        from chatdesk.routing.models import Department

        sales = Department.objects.create(name="Sales")
        support = Department.objects.create(name="Support")
        channel = Channel.objects.create(
            kind=ChannelKind.WHATSAPP,
            name="WhatsApp",
            department=sales,
            config={{"phone_number_id": "{PHONE_NUMBER_ID}",
                     "graph_api_url": "{graph_api_url}"}},
            secrets={{"access_token": "{ACCESS_TOKEN}", "app_secret": "{APP_SECRET}",
                      "verify_token": "verify-me"}},
        )
        people = {{}}
        for username, role, departments in [
            ("sam", Role.SUPERVISOR, []),
            ("sue", Role.SUPERVISOR, []),
            ("alice", Role.AGENT, [sales.pk]),
            ("dave", Role.AGENT, [support.pk]),
        ]:
            user = create_user(username=username, password=None, role=role,
                               display_name=username.title(), department_ids=departments)
            people[username] = {{"username": username, "user_id": user.pk,
                                "token": issue_api_token(user=user, name="chaos")}}
        print(json.dumps({{"channel_id": channel.pk, "people": people}}))
        """
    )
    return Setup(
        channel_id=made["channel_id"],
        people={name: Person(**person) for name, person in made["people"].items()},
    )


def visible_seqs(desk: Desk, setup: Setup, *, upto: int) -> dict[str, list[int]]:
    """Per person, the seq of every event up to ``upto`` the log lets them see (the same
    rule as the replay)."""
    ids = {name: person.user_id for name, person in setup.people.items()}
    result: dict[str, list[int]] = desk.query(
        f"""
        import json
        from chatdesk.accounts.models import User
        from chatdesk.chats.access import viewer_for, visible_events

        seen = {{}}
        for name, pk in {ids!r}.items():
            rows = visible_events(viewer_for(User.objects.get(pk=pk))).filter(seq__lte={upto})
            seen[name] = list(rows.order_by("seq").values_list("seq", flat=True))
        print(json.dumps(seen))
        """
    )
    return result


def sql_one(database_url: str, query: str) -> Any:
    """One value, read straight from the database (quick, for polling)."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        row = conn.execute(query).fetchone()
    return None if row is None else row[0]


def log_state(database_url: str) -> dict[str, int]:
    """The event log: how many events, the newest seq, how many wait to be numbered."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*), coalesce(max(seq), 0), coalesce(min(seq), 0),"
            " count(*) FILTER (WHERE seq IS NULL) FROM realtime_liveevent"
        ).fetchone()
    assert row is not None
    total, newest, oldest, pending = row
    return {"events": total, "newest": newest, "oldest": oldest, "unnumbered": pending}


def stored_counts(database_url: str, channel_id: int) -> Counter[str]:
    """How many times each provider message id is stored on the channel."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT provider_message_id, count(*) FROM chats_message"
            " WHERE channel_id = %s AND direction = 'in' GROUP BY provider_message_id",
            [channel_id],
        ).fetchall()
    return Counter({pid: n for pid, n in rows})


# --- A provider that retries ----------------------------------------------------------


def webhook_body(message_id: str, sender: str, text: str) -> bytes:
    return text_webhook(message_id, sender, text, phone_number_id=PHONE_NUMBER_ID)


@dataclass
class _Pending:
    message_id: str
    body: bytes
    due: float
    attempts: int = 0


@dataclass
class Answer:
    began: float  # time.monotonic() when the request was sent
    at: float  # and when it was answered
    status: int | None  # None: no answer (connection refused, reset, timeout)
    message_id: str


class RetryingProvider:
    """Meta, as far as webhooks go: posts each new customer message, signed, at ``rate``
    per second to the instances in turn, and retries any not answered 2xx with backoff
    (on the next instance, as a load balancer would) until one is. A 2xx must say the
    message was stored (or already was)."""

    def __init__(
        self,
        bases: Callable[[], list[str]],
        channel_id: int,
        *,
        rate: float,
        customers: int = 12,
        threads: int = 2,
    ) -> None:
        self.bases = bases
        self.url_path = f"/webhooks/whatsapp/{channel_id}"
        self.rate = rate
        self.customers = [f"2782{n:07d}" for n in range(1, customers + 1)]
        self.answers: list[Answer] = []
        self.acked: dict[str, int] = {}  # message id -> status of the 2xx
        self.created: list[str] = []
        self.wrong: list[str] = []  # 2xx answers that did not account for the message
        self._generating = threading.Event()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._serial = 0
        self._threads = [
            threading.Thread(target=self._work, args=(n, threads), daemon=True, name=f"meta-{n}")
            for n in range(threads)
        ]

    def start(self) -> None:
        self._generating.set()
        for thread in self._threads:
            thread.start()

    def stop_new(self) -> None:
        """No new messages; retries go on."""
        self._generating.clear()

    def post_now(self, text: str, base: str) -> str:
        """One message, now, to ``base``, which must store it; its id."""
        message_id = f"wamid.marker.{uuid.uuid4().hex}"
        body = webhook_body(message_id, self.customers[0], text)
        response = httpx.post(
            base + self.url_path, content=body, headers=self._headers(body), timeout=30
        )
        assert response.status_code == 200, response.text
        assert response.json()["stored"] == 1, response.json()
        with self._lock:
            self.created.append(message_id)
            self.acked[message_id] = response.status_code
        return message_id

    def outstanding(self) -> int:
        with self._lock:
            return len(self.created) - len(self.acked)

    def drain(self, *, timeout: float) -> None:
        """Wait until every message has been answered 2xx."""
        self.stop_new()
        wait_for(
            lambda: self.outstanding() == 0,
            timeout=timeout,
            what=f"every webhook to be acknowledged ({self.outstanding()} left)",
        )

    def close(self) -> None:
        self._generating.clear()
        self._closing.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=40)

    def statuses(self) -> Counter[int | None]:
        with self._lock:
            return Counter(answer.status for answer in self.answers)

    def _headers(self, body: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            whatsapp.SIGNATURE_HEADER: whatsapp.signature_for(body, APP_SECRET),
        }

    def _new(self, thread: int) -> _Pending:
        with self._lock:
            self._serial += 1
            serial = self._serial
            message_id = f"wamid.chaos.{thread}.{serial}.{uuid.uuid4().hex[:8]}"
            self.created.append(message_id)
        sender = self.customers[serial % len(self.customers)]
        return _Pending(message_id, webhook_body(message_id, sender, f"m{serial}"), 0.0)

    def _work(self, number: int, threads: int) -> None:
        every = threads / self.rate
        rng = random.Random(number)
        pending: list[_Pending] = []
        next_new = time.monotonic() + every * number / threads
        turn = number
        with httpx.Client(timeout=15) as client:
            while not self._closing.is_set():
                now = time.monotonic()
                if self._generating.is_set() and now >= next_new:
                    pending.append(self._new(number))
                    next_new = max(next_new + every, now - every)
                due = [p for p in pending if p.due <= now]
                for item in due:
                    bases = self.bases()
                    if not bases:
                        item.due = now + 0.2
                        continue
                    turn += 1
                    base = bases[turn % len(bases)]
                    if self._post(client, base, item):
                        pending.remove(item)
                    else:
                        item.attempts += 1
                        # Meta backs off; here quickly, capped so a test stays short.
                        backoff = min(0.25 * 2**item.attempts, 2.0)
                        item.due = time.monotonic() + backoff * rng.uniform(0.5, 1.0)
                    if self._closing.is_set():
                        return
                waits = [p.due for p in pending]
                if self._generating.is_set():
                    waits.append(next_new)
                pause = (min(waits) - time.monotonic()) if waits else 0.05
                time.sleep(min(max(pause, 0.005), 0.05))

    def _post(self, client: httpx.Client, base: str, item: _Pending) -> bool:
        status: int | None = None
        payload: Any = None
        began = time.monotonic()
        try:
            response = client.post(
                base + self.url_path, content=item.body, headers=self._headers(item.body)
            )
            status = response.status_code
            if 200 <= status < 300:
                with contextlib.suppress(ValueError):
                    payload = response.json()
        except httpx.TransportError:
            status = None
        with self._lock:
            self.answers.append(Answer(began, time.monotonic(), status, item.message_id))
            if status is not None and 200 <= status < 300:
                if not isinstance(payload, dict) or (
                    payload.get("stored", 0) + payload.get("duplicates", 0) != 1
                ):
                    self.wrong.append(f"{item.message_id}: {status} {payload!r}")
                self.acked[item.message_id] = status
                return True
        return False


# --- A crowd of live clients ------------------------------------------------------------

# live.js's reconnection delays, in seconds.
FIRST_DELAY, MAX_DELAY = 1.0, 30.0


@dataclass
class Socket:
    """One ``/ws/events`` client, as the browser's live.js behaves: on losing its
    connection it comes back (to the next instance) with ``?since=`` the last seq it got."""

    number: int
    person: Person
    home: int  # index of the instance it connects to first
    seqs: list[int] = field(default_factory=list)
    resyncs: int = 0
    opened: int = 0  # handshakes completed
    connected: bool = False
    down_since: float | None = None
    gaps: list[float] = field(default_factory=list)  # seconds from a loss to the next open
    closes: list[int | None] = field(default_factory=list)
    port: int | None = None

    def last(self) -> int:
        return self.seqs[-1] if self.seqs else 0


class Crowd:
    """Many sockets on one event loop in a thread of their own, so a thousand cost a
    thousand coroutines, not a thousand threads."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.sockets: list[Socket] = []
        self.loop = asyncio.new_event_loop()
        self._tasks: list[asyncio.Task[None]] = []
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="crowd")
        self._thread.start()

    def add(self, people: list[Person], count: int, *, ramp: float = 0.0) -> list[Socket]:
        """``count`` sockets, the people taking turns, the instances taking turns, the
        first connections spread over ``ramp`` seconds (people do not all open the desk
        in the same instant); each starts from ``since=0``, so it must end up with every
        event its person may see."""
        made = []
        for n in range(count):
            socket = Socket(len(self.sockets), people[n % len(people)], home=n % len(self.ports))
            self.sockets.append(socket)
            made.append(socket)
        future = asyncio.run_coroutine_threadsafe(self._launch(made, ramp), self.loop)
        future.result(timeout=30)
        return made

    async def _launch(self, sockets: list[Socket], ramp: float) -> None:
        for n, socket in enumerate(sockets):
            self._tasks.append(asyncio.create_task(self._run(socket, ramp * n / len(sockets))))

    async def _run(self, socket: Socket, start_after: float) -> None:
        await asyncio.sleep(start_after)
        index = socket.home
        rng = random.Random(socket.number)
        delay = FIRST_DELAY
        while True:
            port = self.ports[index % len(self.ports)]
            url = (
                f"ws://127.0.0.1:{port}/ws/events?token={socket.person.token}&since={socket.last()}"
            )
            code: int | None = None
            try:
                async with ws_connect(
                    url,
                    origin=Origin(f"http://127.0.0.1:{port}"),
                    open_timeout=30,
                    close_timeout=5,
                    max_size=None,
                ) as connection:
                    socket.opened += 1
                    socket.connected = True
                    delay = FIRST_DELAY
                    socket.port = port
                    if socket.down_since is not None:
                        socket.gaps.append(time.monotonic() - socket.down_since)
                        socket.down_since = None
                    try:
                        async for text in connection:
                            frame = json.loads(text)
                            if "seq" in frame:
                                socket.seqs.append(frame["seq"])
                            elif frame.get("type") == "resync":
                                socket.resyncs += 1
                    finally:
                        code = connection.close_code
            except asyncio.CancelledError:
                raise
            except Exception:  # refused, reset, a failed handshake: try again
                pass
            if socket.connected:
                socket.closes.append(code)
            socket.connected = False
            socket.port = None
            if socket.down_since is None:
                socket.down_since = time.monotonic()
            index += 1  # the next instance, as a load balancer would pick another
            # As live.js: wait, doubling the wait after each failure; browsers dropped at
            # different moments, hence the jitter.
            await asyncio.sleep(delay * rng.uniform(0.5, 1.0))
            delay = min(delay * 2, MAX_DELAY)

    def wait_connected(self, *, timeout: float) -> None:
        try:
            wait_for(
                lambda: all(socket.connected for socket in self.sockets),
                timeout=timeout,
                what="every socket to connect",
            )
        except AssertionError as exc:
            down = sum(not socket.connected for socket in self.sockets)
            raise AssertionError(f"{exc} {down} of {len(self.sockets)} are not.") from None

    def wait_caught_up(self, expected: dict[str, list[int]], *, timeout: float) -> None:
        """Until each socket has got its person's last visible event."""

        def behind() -> list[Socket]:
            return [
                socket
                for socket in self.sockets
                if expected[socket.person.username]
                and socket.last() < expected[socket.person.username][-1]
            ]

        try:
            wait_for(lambda: not behind(), timeout=timeout, what="every socket to catch up")
        except AssertionError as exc:
            late = behind()
            raise AssertionError(
                f"{exc} {len(late)} behind, e.g. "
                + ", ".join(
                    f"#{s.number} {s.person.username} at {s.last()}"
                    f" of {expected[s.person.username][-1]} (connected: {s.connected})"
                    for s in late[:5]
                )
            ) from None

    def problems(self, expected: dict[str, list[int]], *, upto: int) -> list[str]:
        """Every socket whose events up to ``upto`` are not exactly its person's visible
        log: something missing, duplicated or out of order; or a resync."""
        found = []
        for socket in self.sockets:
            got = [seq for seq in socket.seqs if seq <= upto]
            want = expected[socket.person.username]
            if socket.resyncs:
                found.append(f"#{socket.number} was told to resync {socket.resyncs} times")
            if got != want:
                missing = sorted(set(want) - set(got))
                extra = sorted(set(got) - set(want))
                duplicated = sorted(seq for seq, n in Counter(got).items() if n > 1)
                found.append(
                    f"#{socket.number} ({socket.person.username}): missing {missing[:10]},"
                    f" not visible {extra[:10]}, duplicated {duplicated[:10]},"
                    f" in order: {got == sorted(got)}"
                )
        return found

    def gaps(self) -> list[float]:
        return [gap for socket in self.sockets for gap in socket.gaps]

    def close(self) -> None:
        async def cancel() -> None:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(cancel(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


def assert_acknowledged_stored_once(
    database_url: str, channel_id: int, provider: RetryingProvider
) -> set[str]:
    """The provider's retries settled: every message it made was acknowledged in the end,
    each acknowledged one is stored exactly once, and nothing unacknowledged is stored.
    Returns the acknowledged ids."""
    stored = stored_counts(database_url, channel_id)
    acked = set(provider.acked)
    assert provider.wrong == [], provider.wrong
    assert acked == set(provider.created), "every message acknowledged in the end"
    assert not [pid for pid in acked if stored[pid] != 1], "each stored exactly once"
    assert set(stored) == acked, "nothing stored that was never acknowledged"
    return acked
