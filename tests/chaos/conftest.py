"""Fixtures of the chaos tests: services of their own, which they may stop and start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.chaos import PrivatePostgres, PrivateRedis, Scale, scale


@pytest.fixture(scope="session")
def chaos_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster for the session; tests that stop it start one of their own."""
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def chaos_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis for one test, which it may restart."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def chaos_scale() -> Scale:
    return scale()
