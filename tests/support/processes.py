"""Running ``chatdesk`` in other processes, each test with a scratch database of its own.

Every wait is a deadline loop; a process a test started is killed with its whole process
group when the test ends, whatever happened.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.support.scratch import (
    CHATDESK,
    Template,
    migrated_template,
    scratch_database,
    subprocess_env,
)

COMMAND_TIMEOUT = 120
T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.2
) -> T:
    """Call ``probe`` until it returns something other than None or False."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Gave up after {timeout:.0f} s waiting for {what}.")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str, **kwargs: Any) -> httpx.Response | None:
    """A GET that answers None while the server is not listening yet."""
    try:
        return httpx.get(url, timeout=5, **kwargs)
    except httpx.TransportError:
        return None


def group_members(pgid: int) -> list[int]:
    """Every live process in the process group (Linux: read from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode() for part in raw.split(b"\0") if part]


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Started:
    """A ``chatdesk`` process leading a process group of its own, its output in files."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"chatdesk still running {timeout:.0f} s later:\n{self.output()}"
            ) from None


@dataclass
class Desk:
    """One scratch database, and how to run ``chatdesk`` against it."""

    url: str
    env: dict[str, str]
    home: Path

    def run(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CHATDESK, *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def python(self, code: str) -> str:
        """Run ``code`` inside Django (``chatdesk shell -c``); its stdout."""
        result = self.run("shell", "--verbosity", "0", "--command", textwrap.dedent(code))
        assert result.returncode == 0, result.stderr
        return result.stdout

    def query(self, code: str) -> Any:
        """Run ``code``, which prints one JSON document last; that document."""
        return json.loads(self.python(code).strip().splitlines()[-1])

    def migrate(self) -> None:
        result = self.run("migrate", "--no-input")
        assert result.returncode == 0, result.stderr

    def row_counts(self) -> dict[str, int]:
        return dict(
            self.query(
                """
                import json
                from django.apps import apps
                print(json.dumps({m._meta.label: m._default_manager.count()
                                  for m in apps.get_models()}))
                """
            )
        )

    @contextmanager
    def start(self, *args: str) -> Iterator[Started]:
        """Start ``chatdesk ARGS`` as the leader of a new process group; on leaving, kill
        what is left of the group so no test leaves a server behind."""
        name = "-".join(args[:1]) or "chatdesk"
        out, err = self.home / f"{name}.out", self.home / f"{name}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [CHATDESK, *args],
                env=self.env,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        try:
            yield Started(process, out, err)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            for pid in group_members(process.pid):
                os.kill(pid, signal.SIGKILL)


# Code for ``Desk.python``: queue the ``ping`` task, print its id (see ``result_of``).
ENQUEUE = "from chatdesk.ops.tasks import ping\nprint(ping.enqueue('hello').id)"


def result_of(desk: Desk, task_id: str) -> list[str]:
    """[status, return value or None] of the task ``ENQUEUE`` queued."""
    return list(
        desk.query(
            f"""
            import json
            from chatdesk.ops.tasks import ping
            result = ping.get_result({task_id!r})
            print(json.dumps([result.status, result.return_value if result.is_finished else None]))
            """
        )
    )


@pytest.fixture(scope="session")
def desk_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """One migrated scratch database per session (per xdist worker), copied by ``desk``."""
    with migrated_template(tmp_path_factory.mktemp("desk-template")) as template:
        yield template


@pytest.fixture
def fresh_desk(tmp_path: Path) -> Iterator[Desk]:
    """A scratch database with nothing in it, not even the tables."""
    home = tmp_path / "home"
    home.mkdir()
    with scratch_database(tmp_path) as url:
        yield Desk(url=url, env=subprocess_env(url, tmp_path / "var"), home=home)


@pytest.fixture
def desk(tmp_path: Path, desk_template: Template) -> Iterator[Desk]:
    """A migrated scratch database: a copy of the session's template, as ``chatdesk
    migrate`` would leave it."""
    home = tmp_path / "home"
    home.mkdir()
    with scratch_database(tmp_path, desk_template) as url:
        yield Desk(url=url, env=subprocess_env(url, tmp_path / "var"), home=home)
