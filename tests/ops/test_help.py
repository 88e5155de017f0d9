"""Every contract command explains itself, through ``chatdesk`` and ``python -m chatdesk.cli``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.processes import Desk

COMMANDS = {
    "run": ["--host", "--port", "--demo", "Ctrl-C"],
    "serve": ["--host", "--port", "uvicorn"],
    "worker": ["--queue-name", "--batch", "task worker"],
    "createuser": ["--role", "--password", "--department", "--display-name", "--capacity"],
    "token": ["username", "stdout"],
    "demo": ["demo", "passwords"],
    "migrate": ["migrations"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_names_the_options(fresh_desk: Desk, command: str) -> None:
    result = fresh_desk.run(command, "--help")

    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for word in COMMANDS[command]:
        assert word in text


def test_python_dash_m_runs_the_same_command_line(fresh_desk: Desk) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chatdesk.cli", "help", "token"],
        env=fresh_desk.env,
        cwd=fresh_desk.home,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "usage: chatdesk token" in result.stdout
