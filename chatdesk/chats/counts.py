"""The chats counted per tab and agent, kept by the database itself (``ChatCount``).

Triggers on the chats table add a row for every change of a chat's key (kind, status,
ticket state, agent, and the department of a chat nobody holds): -1 for the key it
leaves, +1 for the key it enters. Being rows of their own rather than updates of one
counter per key, they never make two transactions wait for each other, however many
chats close at once. ``compact`` folds them into one row per key from time to time (the
worker's sweep); a read adds up a key's rows, so it is exact before and after.

Being triggers, the counts follow every write, the ORM's, raw SQL's and a bulk load's
alike. Two ways around them exist: PostgreSQL's ``session_replication_role = replica``
(the bulk loader's), after which ``recount``; and, on SQLite, a migration that rebuilds
the chats table (Django does so to alter most columns or add a constraint), which drops
its triggers: ``ensure_installed`` puts them back after every ``migrate``.

The SQL lives here as text so the bulk loader, which talks to PostgreSQL without Django,
runs the very statements the migration does.
"""

# Every statement here is put together from this module's own constants; no value from
# outside reaches the SQL text (the one value, an id, is passed as a parameter).
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

CHATS = "chats_chat"
COUNTS = "chats_chatcount"
KEY = "kind, status, ticket_state, agent_id, department_id"


def _key_of(row: str) -> str:
    """The key of ``row`` (NEW or OLD) in the order of ``KEY``."""
    return (
        f"{row}.kind, {row}.status, {row}.ticket_state, {row}.agent_id, "
        f"CASE WHEN {row}.agent_id IS NULL THEN {row}.department_id END"
    )


def _add(row: str, n: int) -> str:
    return f"INSERT INTO {COUNTS} ({KEY}, n) VALUES ({_key_of(row)}, {n});"


# Only a change of the key writes a row: Django's save() sets every column, and most
# updates of a chat (a new message, a read marker) leave its key alone.
_KEY_COLUMNS = "kind, status, ticket_state, agent_id, department_id"

POSTGRES_INSTALL: tuple[str, ...] = (
    f"""
    CREATE FUNCTION {COUNTS}_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            DELETE FROM {COUNTS};
            RETURN NULL;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            {_add("OLD", -1)}
        END IF;
        IF TG_OP <> 'DELETE' THEN
            {_add("NEW", 1)}
        END IF;
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE TRIGGER {COUNTS}_insert AFTER INSERT ON {CHATS}
    FOR EACH ROW EXECUTE FUNCTION {COUNTS}_track()
    """,
    f"""
    CREATE TRIGGER {COUNTS}_update AFTER UPDATE OF {_KEY_COLUMNS} ON {CHATS}
    FOR EACH ROW WHEN (({_key_of("OLD")}) IS DISTINCT FROM ({_key_of("NEW")}))
    EXECUTE FUNCTION {COUNTS}_track()
    """,
    f"""
    CREATE TRIGGER {COUNTS}_delete AFTER DELETE ON {CHATS}
    FOR EACH ROW EXECUTE FUNCTION {COUNTS}_track()
    """,
    f"""
    CREATE TRIGGER {COUNTS}_truncate AFTER TRUNCATE ON {CHATS}
    FOR EACH STATEMENT EXECUTE FUNCTION {COUNTS}_track()
    """,
)

POSTGRES_UNINSTALL: tuple[str, ...] = (
    f"DROP TRIGGER IF EXISTS {COUNTS}_insert ON {CHATS}",
    f"DROP TRIGGER IF EXISTS {COUNTS}_update ON {CHATS}",
    f"DROP TRIGGER IF EXISTS {COUNTS}_delete ON {CHATS}",
    f"DROP TRIGGER IF EXISTS {COUNTS}_truncate ON {CHATS}",
    f"DROP FUNCTION IF EXISTS {COUNTS}_track()",
)


def _changed(column: str) -> str:
    return f"OLD.{column} IS NOT NEW.{column}"


SQLITE_INSTALL: tuple[str, ...] = (
    f"""
    CREATE TRIGGER {COUNTS}_insert AFTER INSERT ON {CHATS}
    BEGIN {_add("NEW", 1)} END
    """,
    f"""
    CREATE TRIGGER {COUNTS}_update AFTER UPDATE OF {_KEY_COLUMNS} ON {CHATS}
    WHEN {" OR ".join(_changed(c) for c in ("kind", "status", "ticket_state", "agent_id"))}
      OR (CASE WHEN OLD.agent_id IS NULL THEN OLD.department_id END)
         IS NOT (CASE WHEN NEW.agent_id IS NULL THEN NEW.department_id END)
    BEGIN {_add("OLD", -1)} {_add("NEW", 1)} END
    """,
    f"""
    CREATE TRIGGER {COUNTS}_delete AFTER DELETE ON {CHATS}
    BEGIN {_add("OLD", -1)} END
    """,
)

SQLITE_UNINSTALL: tuple[str, ...] = (
    f"DROP TRIGGER IF EXISTS {COUNTS}_insert",
    f"DROP TRIGGER IF EXISTS {COUNTS}_update",
    f"DROP TRIGGER IF EXISTS {COUNTS}_delete",
)

# Counting from scratch: every row replaced by the chats' own count per key. On PostgreSQL
# the chats are locked against writes meanwhile (reads go on), so no change slips between
# the count and the commit; SQLite's writers take turns anyway.
_RECOUNT: tuple[str, ...] = (
    f"DELETE FROM {COUNTS}",
    f"""
    INSERT INTO {COUNTS} ({KEY}, n)
    SELECT kind, status, ticket_state, agent_id,
           CASE WHEN agent_id IS NULL THEN department_id END, COUNT(*)
    FROM {CHATS} GROUP BY 1, 2, 3, 4, 5
    """,
)
POSTGRES_RECOUNT: tuple[str, ...] = (f"LOCK TABLE {CHATS} IN SHARE MODE", *_RECOUNT)
SQLITE_RECOUNT: tuple[str, ...] = _RECOUNT

# Folding on PostgreSQL: one statement deletes the rows its snapshot sees and inserts their
# sums, so a row committed meanwhile by a concurrent change is neither deleted nor summed;
# it stays for the next fold. Two folds at once: the second skips the rows the first
# deleted. Readers see all the old rows or the folded ones, never a mix.
POSTGRES_COMPACT = f"""
    WITH folded AS (DELETE FROM {COUNTS} RETURNING {KEY}, n),
    summed AS (
        INSERT INTO {COUNTS} ({KEY}, n)
        SELECT {KEY}, SUM(n) FROM folded GROUP BY {KEY} HAVING SUM(n) <> 0
    )
    SELECT COUNT(*) FROM folded
"""

_NEEDS_FOLDING = f"""
    SELECT EXISTS (
        SELECT 1 FROM {COUNTS} GROUP BY {KEY} HAVING COUNT(*) > 1 OR SUM(n) = 0
    )
"""


def _run(db: BaseDatabaseWrapper, statements: Sequence[str]) -> None:
    with db.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _vendor(
    db: BaseDatabaseWrapper, *, postgres: tuple[str, ...], sqlite: tuple[str, ...]
) -> tuple[str, ...]:
    if db.vendor == "postgresql":
        return postgres
    if db.vendor == "sqlite":
        return sqlite
    raise NotImplementedError(f"Chat counts have no triggers for {db.vendor}.")


_TRIGGERS = f"{COUNTS}_%"
_INSTALLED = {
    "postgresql": (
        "SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname LIKE %s",
        len(POSTGRES_INSTALL) - 1,
    ),
    "sqlite": (
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s "
        "AND name LIKE %s",
        len(SQLITE_INSTALL),
    ),
}


def ensure_installed(db: BaseDatabaseWrapper) -> bool:
    """Put the triggers back, and count again, if a migration dropped them (SQLite drops a
    table's triggers when Django rebuilds it); whether it had to. Runs after every
    ``migrate`` (``post_migrate``)."""
    if COUNTS not in db.introspection.table_names() or db.vendor not in _INSTALLED:
        return False  # migrated back before the counts, or a database without triggers
    query, expected = _INSTALLED[db.vendor]
    with db.cursor() as cursor:
        cursor.execute(query, [CHATS, _TRIGGERS])
        if cursor.fetchone()[0] == expected:
            return False
    with transaction.atomic(using=db.alias):
        uninstall(db)
        install(db)
        recount(db)
    return True


def install(db: BaseDatabaseWrapper) -> None:
    """Create the triggers that keep the counts (a migration step)."""
    _run(db, _vendor(db, postgres=POSTGRES_INSTALL, sqlite=SQLITE_INSTALL))


def uninstall(db: BaseDatabaseWrapper) -> None:
    _run(db, _vendor(db, postgres=POSTGRES_UNINSTALL, sqlite=SQLITE_UNINSTALL))


def recount(db: BaseDatabaseWrapper | None = None) -> None:
    """Count every chat again: after a load that went around the triggers."""
    db = db or connection
    with transaction.atomic(using=db.alias):
        _run(db, _vendor(db, postgres=POSTGRES_RECOUNT, sqlite=SQLITE_RECOUNT))


def compact() -> int:
    """Fold the rows of each key into one, dropping keys that add up to nothing; how many
    rows were replaced (0 when there was nothing to fold)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_NEEDS_FOLDING)
        if not cursor.fetchone()[0]:
            return 0
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_COMPACT)
            return int(cursor.fetchone()[0])
        # SQLite: the transaction began IMMEDIATE, holding the only write lock, so the
        # rows read are all the rows there are until it commits.
        cursor.execute(f"SELECT MAX(id) FROM {COUNTS}")
        (last,) = cursor.fetchone()
        cursor.execute(
            f"INSERT INTO {COUNTS} ({KEY}, n) SELECT {KEY}, SUM(n) FROM {COUNTS} "
            f"WHERE id <= %s GROUP BY {KEY} HAVING SUM(n) <> 0",
            [last],
        )
        cursor.execute(f"DELETE FROM {COUNTS} WHERE id <= %s", [last])
        return cursor.rowcount
