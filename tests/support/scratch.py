"""Scratch databases for tests that run ``chatdesk`` in another process.

The suite's own test database lives inside pytest's transaction (or in memory on SQLite),
so a subprocess gets a database of its own: an SQLite file under the test's tmp folder,
or, when the suite runs on PostgreSQL, a fresh PostgreSQL database dropped afterwards.

Migrating takes seconds, so it happens once per test session (per xdist worker): a
``Template`` is a migrated scratch database, and each migrated scratch database is a copy
of it (SQLite: the file copied; PostgreSQL: ``CREATE DATABASE ... TEMPLATE ...``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

BIN = Path(sys.executable).parent
CHATDESK = str(BIN / "chatdesk")
ROOT = Path(__file__).resolve().parents[2]

MIGRATE_TIMEOUT = 300


def suite_database_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _execute(base: str, statement: sql.Composed) -> None:
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(statement)


def _drop(base: str, name: str) -> None:
    _execute(base, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass(frozen=True)
class Template:
    """A migrated scratch database that others are copied from: an SQLite file, or the
    name of a PostgreSQL database on the suite's server."""

    sqlite_file: Path | None = None
    postgres_name: str | None = None


@contextmanager
def migrated_template(folder: Path) -> Iterator[Template]:
    """Migrate one scratch database in ``folder`` (which must outlive it) and yield it as
    a template; a PostgreSQL one is dropped on leaving."""
    folder.mkdir(parents=True, exist_ok=True)
    with scratch_database(folder) as url:
        result = subprocess.run(
            [CHATDESK, "migrate", "--no-input"],
            env=subprocess_env(url, folder / "var"),
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=MIGRATE_TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, f"migrating the template failed:\n{result.stderr}"
        if url.startswith("sqlite:///"):
            yield Template(sqlite_file=Path(url.removeprefix("sqlite:///")))
        else:
            yield Template(postgres_name=url.rpartition("/")[2])


@contextmanager
def scratch_database(tmp_path: Path, template: Template | None = None) -> Iterator[str]:
    """Yield a DATABASE_URL nobody else uses; PostgreSQL when the suite runs on it. With
    ``template``, a migrated copy of it; without, an empty database (no tables)."""
    base = suite_database_url()
    if base is None:
        path = tmp_path / "scratch.sqlite3"
        if template is not None:
            assert template.sqlite_file is not None, "a PostgreSQL template on SQLite"
            shutil.copyfile(template.sqlite_file, path)
            # WAL mode: what the migrating process did not check-point yet is in here.
            wal = template.sqlite_file.with_name(template.sqlite_file.name + "-wal")
            if wal.exists():
                shutil.copyfile(wal, path.with_name(path.name + "-wal"))
        yield f"sqlite:///{path}"
        return
    name = f"chatdesk_scratch_{uuid.uuid4().hex[:12]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        assert template.postgres_name is not None, "an SQLite template on PostgreSQL"
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template.postgres_name)
        )
    _execute(base, create)
    head, _, _ = base.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        _drop(base, name)


# For ``subprocess_env(..., **FAST_HASHER)``: the suite's own settings (tests/settings.py,
# a fast password hasher) in a subprocess, for tests that create or sign in personas and
# are not about the production settings themselves.
FAST_HASHER = {"DJANGO_SETTINGS_MODULE": "tests.settings"}


def subprocess_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a ``chatdesk`` subprocess: its own database and var folder, and
    the production settings unless ``extra`` names others (see ``FAST_HASHER``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATDESK_")}
    env.pop("REDIS_URL", None)
    # pytest-django points this at tests.settings in the suite's own process.
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        DATABASE_URL=database_url,
        CHATDESK_VAR_DIR=str(var_dir),
        CHATDESK_SECRET_KEY="test-" + uuid.uuid4().hex,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    if env.get("DJANGO_SETTINGS_MODULE", "").startswith("tests."):
        # The subprocess runs in a folder of its own: let it import the tests package.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env
