"""Fill a migrated PostgreSQL database with a desk's worth of history: departments, agents,
channels, contacts, chats (most closed, some thousands open, tickets in every state, queued
chats) and their messages — with COPY, not the ORM, so a million chats take minutes.

Every row keeps every rule the migrations put in the database (check constraints, one
open chat and one open ticket per contact and channel, unique provider ids per channel),
so the desk reads the data as it reads its own. The only liberty taken is the usual one for
bulk loads: the secondary indexes of the big tables are dropped before the COPY and created
again, from their own definitions, afterwards, and the COPY runs with triggers off (foreign
key checks, the tabs' counts), the counts being made afterwards from the loaded chats; then
the tables are vacuumed and analysed as autovacuum would have done by the time a desk grew
this large.
"""

from __future__ import annotations

import random
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from chatdesk.chats import counts

# Text format for COPY: NULL is \N; no value written here holds a tab, newline or backslash.
NULL = "\\N"
DAY = 86_400.0

WORDS = [
    "hello",
    "order",
    "delivery",
    "refund",
    "invoice",
    "account",
    "password",
    "payment",
    "card",
    "address",
    "parcel",
    "tracking",
    "number",
    "yesterday",
    "today",
    "tomorrow",
    "please",
    "thanks",
    "help",
    "cancel",
    "change",
    "upgrade",
    "plan",
    "price",
    "discount",
    "store",
    "branch",
    "manager",
    "call",
    "back",
    "email",
    "receipt",
    "missing",
    "broken",
    "item",
    "size",
]


@dataclass(frozen=True)
class Sizes:
    chats: int
    messages: int
    agents: int = 200
    departments: int = 20
    # Open work, as a busy desk has it at any moment.
    open_chats: int = 3_000
    queued_chats: int = 200
    unassigned_tickets: int = 2_000
    assigned_tickets: int = 1_000
    # A share of the closed history that went through tickets.
    closed_ticket_share: float = 0.08
    capacity: int = 30
    history_days: float = 365.0

    @property
    def contacts(self) -> int:
        return max(self.open_total, self.chats * 2 // 5)

    @property
    def open_total(self) -> int:
        return self.open_chats + self.queued_chats + self.unassigned_tickets + self.assigned_tickets

    @property
    def closed(self) -> int:
        return self.chats - self.open_total


def scaled(chats: int, messages: int) -> Sizes:
    """Sizes for ``chats`` chats: the open work shrinks with the desk below a million."""
    factor = min(1.0, chats / 1_000_000)
    return Sizes(
        chats=chats,
        messages=messages,
        open_chats=max(40, int(3_000 * factor)),
        queued_chats=max(5, int(200 * factor)),
        unassigned_tickets=max(20, int(2_000 * factor)),
        assigned_tickets=max(10, int(1_000 * factor)),
        history_days=365.0 if chats >= 100_000 else 60.0,
    )


@dataclass(frozen=True)
class Loaded:
    """What was loaded and how long it took; names the benchmark uses."""

    sizes: dict[str, object]
    rows: dict[str, int]
    seconds: dict[str, float]
    supervisor: str
    agents: list[str]
    departments: list[str]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


class Plan:
    """Where each chat sits in the desk's history, decided once and read by both COPYs.

    Chats are numbered by creation (id order is time order). The newest ``open_total``
    chats are the open ones: they belong to distinct contacts, which keeps the partial
    unique indexes on open chats and tickets satisfied whatever the channel."""

    def __init__(self, sizes: Sizes, now: float, seed: int) -> None:
        self.sizes = sizes
        self.now = now
        self.rng = random.Random(seed)
        s = sizes
        self.first_open = s.closed
        self.channels = s.departments
        # Agent a (id offset) works in department a % departments; every fourth in the next
        # one too.
        self.agent_base_id = 2  # id 1 is the supervisor
        self.dept_agents: list[list[int]] = [[] for _ in range(s.departments)]
        for a in range(s.agents):
            self.dept_agents[a % s.departments].append(self.agent_base_id + a)
            if a % 4 == 0:
                self.dept_agents[(a + 1) % s.departments].append(self.agent_base_id + a)
        # Per chat: created_at, message count, agent id (0 = none), and a kind code.
        self.created = array("d", bytes(8 * s.chats))
        self.count = array("B", bytes(s.chats))
        self.agent = array("l", bytes(8 * s.chats))
        self.code = array("B", bytes(s.chats))

    # Kind codes: what a chat is and so which messages it has.
    CLOSED_CHAT, CLOSED_TICKET, OPEN_CHAT, QUEUED, UNASSIGNED, ASSIGNED = range(6)

    def code_of(self, i: int) -> int:
        s = self.sizes
        j = i - self.first_open
        if j < 0:
            return self.CLOSED_TICKET if self.rng.random() < s.closed_ticket_share else 0
        if j < s.unassigned_tickets:
            return self.UNASSIGNED
        j -= s.unassigned_tickets
        if j < s.assigned_tickets:
            return self.ASSIGNED
        j -= s.assigned_tickets
        if j < s.queued_chats:
            return self.QUEUED
        return self.OPEN_CHAT

    def contact_of(self, i: int) -> int:
        return 1 + i % self.sizes.contacts

    def channel_of(self, i: int) -> int:
        return 1 + (self.contact_of(i) - 1) % self.channels


def _copy(conn: psycopg.Connection, table: str, columns: list[str], lines: Iterator[str]) -> int:
    """COPY the tab-separated ``lines`` into ``table``, in large writes; how many rows."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    rows = 0
    batch: list[str] = []
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for line in lines:
            batch.append(line)
            if len(batch) >= 20_000:
                copy.write("".join(batch))
                rows += len(batch)
                batch.clear()
        if batch:
            copy.write("".join(batch))
            rows += len(batch)
    return rows


def _row(*values: object) -> str:
    return "\t".join(NULL if v is None else str(v) for v in values) + "\n"


def _secondary_indexes(conn: psycopg.Connection, tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of each index on ``tables`` that no constraint owns."""
    rows = conn.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (
            SELECT 1 FROM pg_constraint c
            WHERE c.conindid
                = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass
          )
        ORDER BY i.tablename, i.indexname
        """,
        (tables,),
    ).fetchall()
    return [(name, definition) for name, definition in rows]


def load(
    database_url: str,
    sizes: Sizes,
    *,
    seed: int = 7,
    log: Callable[[str], None] = print,
) -> Loaded:
    """Load ``sizes`` worth of desk into the migrated, empty database at ``database_url``."""
    now = time.time()
    plan = Plan(sizes, now, seed)
    rng = plan.rng
    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    started = time.monotonic()
    big = ["chats_chat", "chats_message", "chats_contact"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        # Foreign keys are kept by construction (every id written here exists): skip the
        # per-row trigger checks during the load, as pg_restore does.
        conn.execute("SET session_replication_role = replica")
        indexes = _secondary_indexes(conn, big)
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))

        mark = time.monotonic()
        rows.update(_load_people(conn, plan, now))
        since = _iso(now - sizes.history_days * DAY - 3600)
        rows["chats_contact"] = _copy(
            conn,
            "chats_contact",
            CONTACT_COLUMNS,
            (
                _row(c, f"+2782{c:08d}", f"Contact {c}" if c % 7 else "", "", "", since, since)
                for c in range(1, sizes.contacts + 1)
            ),
        )
        seconds["people"] = time.monotonic() - mark
        log(f"   loader: {rows['chats_contact']} contacts ({seconds['people']:.0f} s)")

        mark = time.monotonic()
        rows["chats_chat"] = _copy(conn, "chats_chat", CHAT_COLUMNS, _chat_lines(plan, rng))
        seconds["chats"] = time.monotonic() - mark
        log(f"   loader: {rows['chats_chat']} chats ({seconds['chats']:.0f} s)")

        mark = time.monotonic()
        rows["chats_message"] = _copy(
            conn, "chats_message", MESSAGE_COLUMNS, _message_lines(plan, rng)
        )
        seconds["messages"] = time.monotonic() - mark
        log(f"   loader: {rows['chats_message']} messages ({seconds['messages']:.0f} s)")

        mark = time.monotonic()
        conn.execute("SET session_replication_role = origin")
        for _, definition in indexes:
            conn.execute(definition)
        seconds["indexes"] = time.monotonic() - mark
        log(f"   loader: {len(indexes)} indexes created again ({seconds['indexes']:.0f} s)")

        # The replica role also kept the triggers that count the chats per tab and agent
        # from firing during the COPY: count them now with the migration's own statements,
        # which replace whatever rows are there, so the counts come out right whether the
        # triggers fired or not.
        mark = time.monotonic()
        with conn.transaction():
            for statement in counts.POSTGRES_RECOUNT:
                conn.execute(statement)
        counted = conn.execute(
            sql.SQL("SELECT SUM(n) FROM {}").format(sql.Identifier(counts.COUNTS))
        )
        if (counted.fetchone() or (None,))[0] != rows["chats_chat"]:
            raise RuntimeError("The chats' counts do not add up to the chats loaded.")
        seconds["counts"] = time.monotonic() - mark
        log(f"   loader: chats counted per tab and agent ({seconds['counts']:.1f} s)")

        mark = time.monotonic()
        for table in ("accounts_user", "accounts_user_departments", "routing_department"):
            conn.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {}").format(
                    sql.Literal(table), sql.Identifier(table)
                )
            )
        for table in ("providers_channel", *big):
            conn.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {}").format(
                    sql.Literal(table), sql.Identifier(table)
                )
            )
        # What autovacuum does to a table this old: the visibility map (index-only scans)
        # and the planner's statistics.
        conn.execute("VACUUM (ANALYZE)")
        seconds["vacuum_analyze"] = time.monotonic() - mark
    seconds["total"] = time.monotonic() - started
    log(f"   loader: vacuum and analyse ({seconds['vacuum_analyze']:.0f} s)")
    return Loaded(
        sizes={**asdict(sizes), "contacts": sizes.contacts},
        rows=rows,
        seconds={k: round(v, 1) for k, v in seconds.items()},
        supervisor="supervisor",
        agents=[f"agent{a:03d}" for a in range(1, sizes.agents + 1)],
        departments=[f"Department {d:02d}" for d in range(1, sizes.departments + 1)],
    )


def _load_people(conn: psycopg.Connection, plan: Plan, now: float) -> dict[str, int]:
    """Departments, the supervisor and the agents, their departments, one channel per
    department (WhatsApp and SMS by turns)."""
    s = plan.sizes
    joined = _iso(now - s.history_days * DAY - 7200)
    out: dict[str, int] = {}
    out["routing_department"] = _copy(
        conn,
        "routing_department",
        ["id", "name", "description", "created_at"],
        (_row(d, f"Department {d:02d}", "", joined) for d in range(1, s.departments + 1)),
    )
    presences = ("available", "available", "away", "offline")

    def users() -> Iterator[str]:
        yield _row(
            1, "!bench", None, "f", "supervisor", "Sam", "Supervisor", "", "f", "t",
            joined, "supervisor", "Sam Supervisor", 5, "offline", None, None, None, "available", "",
        )  # fmt: skip
        for a in range(s.agents):
            number = a + 1
            yield _row(
                plan.agent_base_id + a, "!bench", None, "f", f"agent{number:03d}",
                "Agent", f"{number:03d}", "", "f", "t", joined, "agent",
                f"Agent {number:03d}", s.capacity, presences[a % 4], joined, None,
                _iso(now - 60 * (a + 1)), "available", "",
            )  # fmt: skip

    out["accounts_user"] = _copy(conn, "accounts_user", USER_COLUMNS, users())
    memberships = [(agent, d + 1) for d, agents in enumerate(plan.dept_agents) for agent in agents]
    out["accounts_user_departments"] = _copy(
        conn,
        "accounts_user_departments",
        ["id", "user_id", "department_id"],
        (_row(n, user, dept) for n, (user, dept) in enumerate(memberships, start=1)),
    )

    def channels() -> Iterator[str]:
        for c in range(1, plan.channels + 1):
            if c % 2:
                kind, config = "whatsapp", f'{{"phone_number_id": "10{c:04d}"}}'
            else:
                kind, config = "sms", f'{{"from_number": "+155500{c:04d}"}}'
            yield _row(
                c, kind, f"Line {c:02d}", "We are closed; we will answer soon.",
                "All our agents are busy; you are next.", "//end", config, "{}", "t",
                joined, c, 80,
            )  # fmt: skip

    out["providers_channel"] = _copy(
        conn,
        "providers_channel",
        ["id", "kind", "name", "out_of_hours_reply", "queue_reply", "end_keyword", "config",
         "secrets", "is_active", "created_at", "department_id", "send_rate"],
        channels(),
    )  # fmt: skip
    return out


CONTACT_COLUMNS = ["id", "phone", "name", "username", "email", "created_at", "updated_at"]
USER_COLUMNS = [
    "id", "password", "last_login", "is_superuser", "username", "first_name", "last_name",
    "email", "is_staff", "is_active", "date_joined", "role", "display_name", "capacity",
    "presence", "presence_changed_at", "last_seen_at", "last_assigned_at", "chosen_presence",
    "time_zone",
]  # fmt: skip

CHAT_COLUMNS = [
    "id", "kind", "status", "ticket_state", "channel_id", "contact_id", "agent_id",
    "department_id", "created_at", "queued_at", "assigned_at", "first_response_at",
    "closed_at", "closed_by", "closed_by_user_id", "last_inbound_at", "last_message_at",
    "agent_read_at",
]  # fmt: skip

MESSAGE_COLUMNS = [
    "id", "chat_id", "channel_id", "direction", "content_type", "text", "media",
    "template_variables", "author_id", "is_automatic", "status", "error_code", "error_reason",
    "provider_message_id", "provider_timestamp", "attempts", "created_at", "sent_at",
    "delivered_at", "read_at",
]  # fmt: skip

# Seconds between a chat's messages: the closed history at a conversational pace, the open
# work bunched into the last hour.
CLOSED_GAP = 45.0
OPEN_GAP = 10.0


def _times(plan: Plan, i: int) -> tuple[float, float]:
    """A chat's creation time and the gap between its messages."""
    s = plan.sizes
    if i < plan.first_open:
        start = plan.now - s.history_days * DAY
        span = s.history_days * DAY - 3600
        return start + span * i / max(1, s.closed), CLOSED_GAP
    j = i - plan.first_open
    return plan.now - 3600 + 3000 * j / s.open_total, OPEN_GAP


def _message_count(plan: Plan, code: int) -> int:
    average = plan.sizes.messages / plan.sizes.chats
    if code in (Plan.QUEUED, Plan.UNASSIGNED):
        return 1 + int(plan.rng.random() * 3)
    spread = max(0, int(2 * average) - 3)
    return max(1, 2 + int(plan.rng.random() * (spread + 1)))


def _chat_lines(plan: Plan, rng: random.Random) -> Iterator[str]:
    s = plan.sizes
    for i in range(s.chats):
        code = plan.code_of(i)
        created, gap = _times(plan, i)
        n = _message_count(plan, code)
        channel = plan.channel_of(i)
        department = channel  # one channel per department, same numbers
        agents = plan.dept_agents[department - 1]
        with_agent = code not in (Plan.QUEUED, Plan.UNASSIGNED)
        agent = agents[int(rng.random() * len(agents))] if with_agent else 0
        plan.created[i], plan.count[i], plan.agent[i], plan.code[i] = created, n, agent, code
        # Messages: k = 0..n-1 at created + 5 + k * gap; even k inbound, odd k outbound
        # when an agent holds the chat, all inbound otherwise.
        last = created + 5 + (n - 1) * gap
        if with_agent:
            last_in = created + 5 + ((n - 1) // 2 * 2) * gap
            first_out = created + 5 + gap if n > 1 else None
        else:
            last_in, first_out = last, None
        kind = "ticket" if code in (Plan.CLOSED_TICKET, Plan.UNASSIGNED, Plan.ASSIGNED) else "chat"
        closed = code in (Plan.CLOSED_CHAT, Plan.CLOSED_TICKET)
        state = None
        if kind == "ticket":
            state = "closed" if closed else "assigned" if agent else "unassigned"
        closed_at = closed_by = closed_by_user = None
        if closed:
            closed_at = _iso(last + 120)
            closed_by = ("agent", "agent", "contact", "system")[i % 4]
            closed_by_user = agent if closed_by == "agent" else None
        last_iso = _iso(last)
        # Open chats' agents have read all but the newest inbound message, now and then.
        read_at = last_iso if closed or (with_agent and i % 3) else None
        yield _row(
            i + 1, kind, "closed" if closed else "open", state, channel, plan.contact_of(i),
            agent or None, department, _iso(created),
            _iso(created + 1) if code == Plan.QUEUED else None,
            _iso(created + 2) if agent else None,
            _iso(first_out) if first_out is not None else None,
            closed_at, closed_by, closed_by_user, _iso(last_in), last_iso,
            read_at if agent else None,
        )  # fmt: skip


def _message_lines(plan: Plan, rng: random.Random) -> Iterator[str]:
    texts = [_text(rng, 3 + n % 9) for n in range(997)]
    message_id = 0
    for i in range(plan.sizes.chats):
        created, gap = plan.created[i], (OPEN_GAP if i >= plan.first_open else CLOSED_GAP)
        agent = plan.agent[i]
        channel = plan.channel_of(i)
        chat_id = i + 1
        for k in range(plan.count[i]):
            message_id += 1
            at = _iso(created + 5 + k * gap)
            text = texts[message_id % 997]
            if agent and k % 2:
                yield (
                    f"{message_id}\t{chat_id}\t{channel}\tout\ttext\t{text}\t{{}}\t[]\t{agent}\t"
                    f"f\tdelivered\t\t\twamid.out.{message_id}\t{NULL}\t1\t{at}\t{at}\t{at}\t"
                    f"{NULL}\n"
                )
            else:
                yield (
                    f"{message_id}\t{chat_id}\t{channel}\tin\ttext\t{text}\t{{}}\t[]\t{NULL}\t"
                    f"f\t{NULL}\t\t\twamid.in.{message_id}\t{at}\t0\t{at}\t{NULL}\t{NULL}\t"
                    f"{NULL}\n"
                )
