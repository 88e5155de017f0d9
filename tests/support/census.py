"""A census of every table, so a test can say that a refused request changed nothing."""

from __future__ import annotations

from django.apps import apps
from django.db import connection


def row_counts() -> dict[str, int]:
    """How many rows every table of the project holds (one query): a refused request
    changes none."""
    models = [m for m in apps.get_models() if m._meta.managed and not m._meta.proxy]
    tables = [connection.ops.quote_name(m._meta.db_table) for m in models]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables))
        counts = cursor.fetchone()
    return {m._meta.label: int(n) for m, n in zip(models, counts, strict=True)}


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {
        label: (before[label], after[label]) for label in before if before[label] != after[label]
    }
