"""``chatdesk token``: a token alone on stdout, which then opens the API."""

from __future__ import annotations

import re
import signal

from tests.support.processes import Desk, free_port, get, wait_for

TOKEN = re.compile(r"cd_[A-Za-z0-9_-]{40,}\n")


def test_token_prints_exactly_one_line_and_authenticates(desk: Desk) -> None:
    made = desk.run("createuser", "alice", "--role", "agent")
    assert made.returncode == 0, made.stderr

    first = desk.run("token", "alice")
    second = desk.run("token", "alice")

    assert first.returncode == 0, first.stderr
    assert TOKEN.fullmatch(first.stdout), first.stdout
    assert TOKEN.fullmatch(second.stdout), second.stdout
    assert first.stdout != second.stdout
    token = first.stdout.strip()
    port = free_port()
    with desk.start("serve", "--port", str(port)) as server:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: get(f"{base}/healthz"), timeout=30, what="the web server")

        ok = get(f"{base}/api/v1/departments", headers={"Authorization": f"Bearer {token}"})
        wrong = get(f"{base}/api/v1/departments", headers={"Authorization": "Bearer cd_nope"})
        second_ok = get(
            f"{base}/api/v1/departments",
            headers={"Authorization": f"Bearer {second.stdout.strip()}"},
        )

        assert ok is not None and ok.status_code == 200, ok
        assert ok.json() == []
        assert second_ok is not None and second_ok.status_code == 200
        assert wrong is not None and wrong.status_code == 401
        server.process.send_signal(signal.SIGTERM)
        server.wait(timeout=15)


def test_unknown_user_is_an_error_with_nothing_on_stdout(desk: Desk) -> None:
    result = desk.run("token", "nobody")

    assert result.returncode == 1
    assert result.stdout == ""
    assert "No user is named 'nobody'." in result.stderr


def test_a_deactivated_user_gets_no_token(desk: Desk) -> None:
    desk.python(
        """
        from chatdesk.accounts.models import User
        User.objects.create(username="gone", is_active=False)
        """
    )

    result = desk.run("token", "gone")

    assert result.returncode == 1
    assert result.stdout == ""
    assert "deactivated" in result.stderr
    assert (
        desk.query("from chatdesk.accounts.models import ApiToken\nprint(ApiToken.objects.count())")
        == 0
    )
