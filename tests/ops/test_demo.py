"""``chatdesk demo``: loads the demo desk, and a second run changes nothing."""

from __future__ import annotations

from tests.support.processes import Desk


def test_demo_twice_gives_the_same_rows(desk: Desk) -> None:
    first = desk.run("demo")
    assert first.returncode == 0, first.stderr
    after_first = desk.row_counts()

    second = desk.run("demo")

    assert second.returncode == 0, second.stderr
    assert desk.row_counts() == after_first
    assert after_first["accounts.User"] == 6
    assert after_first["routing.Department"] == 2
    assert after_first["chats.Chat"] >= 9
    assert "Added now: 2 departments, 6 users, 1 channel" in first.stdout
    assert "Nothing to add: the demo data was already there." in second.stdout
    for line in ["thandi    agent       demo-agent-pass", "grace     admin       demo-admin-pass"]:
        assert line in first.stdout
        assert line in second.stdout


def test_demo_logins_sign_in(desk: Desk) -> None:
    assert desk.run("demo").returncode == 0

    signed_in = desk.query(
        """
        import json
        from django.contrib.auth import authenticate
        from django.test import RequestFactory
        from chatdesk.demo.loader import USERS
        sign_in = RequestFactory().post("/login/")
        print(json.dumps([bool(authenticate(sign_in, username=u.username, password=u.password))
                          for u in USERS]))
        """
    )

    assert signed_in == [True] * 6
