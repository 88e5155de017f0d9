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


def test_the_nobody_available_reply_is_added_silent_where_the_closed_reply_was(
    fresh_desk: Desk,
) -> None:
    fresh_desk.migrate()
    back = fresh_desk.run("migrate", "providers", "0002_channel_send_rate_and_pace")
    assert back.returncode == 0, back.stderr
    fresh_desk.python(
        """
        from django.db import connection
        with connection.cursor() as cursor:
            for name, reply in (("Chatty", "We're closed."), ("Quiet", "")):
                cursor.execute(
                    "INSERT INTO providers_channel (kind, name, out_of_hours_reply, queue_reply,"
                    " end_keyword, config, secrets, is_active, created_at, send_rate)"
                    " VALUES ('sandbox', %s, %s, '', '//end', '{}', '{}', TRUE, %s, 80)",
                    [name, reply, "2026-01-01T00:00:00+00:00"],
                )
        """
    )
    fresh_desk.migrate()
    replies = fresh_desk.query(
        """
        import json
        from chatdesk.providers.models import Channel
        print(json.dumps(dict(Channel.objects.values_list("name", "nobody_available_reply"))))
        """
    )
    assert replies == {
        "Chatty": "Thanks for your message. All our agents are busy right now; we'll reply as "
        "soon as one is free.",
        "Quiet": "",  # it sent nothing before when nobody was free; it still sends nothing
    }
