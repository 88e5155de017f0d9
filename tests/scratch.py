"""Scratch databases for tests that run ``chatdesk`` in another process.

The suite's own test database lives inside pytest's transaction (or in memory on SQLite),
so a subprocess gets a database of its own: an SQLite file under the test's tmp folder,
or, when the suite runs on PostgreSQL, a fresh PostgreSQL database dropped afterwards.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

BIN = Path(sys.executable).parent
CHATDESK = str(BIN / "chatdesk")


def suite_database_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@contextmanager
def scratch_database(tmp_path: Path) -> Iterator[str]:
    """Yield a DATABASE_URL nobody else uses; PostgreSQL when the suite runs on it."""
    base = suite_database_url()
    if base is None:
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"chatdesk_scratch_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    head, _, _ = base.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def subprocess_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a ``chatdesk`` subprocess: its own database and var folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATDESK_")}
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=database_url,
        CHATDESK_VAR_DIR=str(var_dir),
        CHATDESK_SECRET_KEY="test-" + uuid.uuid4().hex,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env
