"""``chatdesk migrate`` on a fresh database."""

from __future__ import annotations

from tests.support.processes import Desk


def test_migrate_creates_every_table_on_a_fresh_database(fresh_desk: Desk) -> None:
    assert fresh_desk.run("migrate", "--check").returncode != 0

    first = fresh_desk.run("migrate")

    assert first.returncode == 0, first.stderr
    assert "Applying chats.0001_contacts_chats_messages_comments_events... OK" in first.stdout
    assert fresh_desk.run("migrate", "--check").returncode == 0
    assert fresh_desk.row_counts()["accounts.User"] == 0
    again = fresh_desk.run("migrate")
    assert again.returncode == 0
    assert "No migrations to apply." in again.stdout
