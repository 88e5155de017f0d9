"""``chatdesk`` commands for the browser tests, each run in a fork of one process that has
set Django up once, instead of a fresh interpreter per command (about a second each).

The parent process only imports: it never opens a database or Redis connection, so every
fork starts with none and opens its own, as a fresh ``chatdesk`` process would. A fork's
stdout and stderr go to files the caller names, and its exit status comes back over a Unix
socket. Commands run one at a time, in order.

Run as ``python -m tests.support.command_forks SOCKET``; ``CommandForks`` starts and stops it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

START_DEADLINE = 60.0
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


class CommandForks:
    """The forking runner for one environment and folder (those of the browser server)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.cwd = cwd
        self.address = str(cwd / "command-forks.sock")
        self._lock = threading.Lock()
        self._calls = 0
        self._log = (cwd / "command-forks.log").open("wb")
        pythonpath = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.command_forks", self.address],
            env={**env, "PYTHONPATH": pythonpath},
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_DEADLINE
        while not os.path.exists(self.address):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(
                    "the command runner did not start:\n"
                    + (cwd / "command-forks.log").read_text(errors="replace")
                )
            time.sleep(0.05)

    def run(self, args: list[str], timeout: float) -> Finished:
        with self._lock:
            self._calls += 1
            out = self.cwd / f"command-{self._calls}.out"
            err = self.cwd / f"command-{self._calls}.err"
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(timeout)
                conn.connect(self.address)
                request = {"args": args, "stdout": str(out), "stderr": str(err)}
                conn.sendall(json.dumps(request).encode() + b"\n")
                answer = json.loads(_read_line(conn))
            return Finished(
                returncode=int(answer["returncode"]),
                stdout=out.read_text(errors="replace"),
                stderr=err.read_text(errors="replace"),
            )

    def close(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._log.close()


def _read_line(conn: socket.socket) -> bytes:
    chunks: list[bytes] = []
    while not chunks or not chunks[-1].endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _run_in_this_fork(args: list[str], stdout: str, stderr: str) -> None:
    """The fork's whole life: stdout and stderr to the files, the command, its exit code."""
    for fd, path in ((1, stdout), (2, stderr)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    code = 0
    try:
        from chatdesk.cli import main

        main(["chatdesk", *args])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # the fork reports every failure, as the CLI would
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def serve(address: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatdesk.settings")
    import django
    from django.core.management import get_commands, load_command_class

    django.setup()
    # What every command needs, imported once here rather than in each fork.
    commands = get_commands()
    for name in ("shell", "token", "createuser"):
        if name in commands:
            load_command_class(commands[name], name)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address + ".tmp")
    listener.listen()
    os.rename(address + ".tmp", address)  # appears only once it accepts
    while True:
        conn, _ = listener.accept()
        with conn:
            request = json.loads(_read_line(conn))
            pid = os.fork()
            if pid == 0:
                listener.close()
                _run_in_this_fork(request["args"], request["stdout"], request["stderr"])
            _, status = os.waitpid(pid, 0)
            answer = {"returncode": os.waitstatus_to_exitcode(status)}
            conn.sendall(json.dumps(answer).encode() + b"\n")


if __name__ == "__main__":
    serve(sys.argv[1])
