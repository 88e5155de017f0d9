"""The supervisor of ``chatdesk run``, with stand-in children that record their pids."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from chatdesk.ops.processes import Child, reach_warning, supervise
from tests.support.processes import is_alive, wait_for

ROOT = Path(__file__).resolve().parents[2]

SLEEPER = """
import os, signal, sys, time
if sys.argv[2] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)
"""

# Exits with the given code once the sleeper is up, so the sleeper's pid is known.
QUITTER = """
import os, sys, time
deadline = time.monotonic() + 30
while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.05)
sys.exit(int(sys.argv[2]))
"""


def sleeper(pid_file: Path, *, stubborn: bool = False) -> Child:
    mode = "stubborn" if stubborn else "polite"
    return Child("sleeper", [sys.executable, "-c", SLEEPER, str(pid_file), mode])


def quitter(pid_file: Path, code: int) -> Child:
    return Child("quitter", [sys.executable, "-c", QUITTER, str(pid_file), str(code)])


def read_pid(pid_file: Path) -> int:
    return int(pid_file.read_text())


@pytest.mark.parametrize(("code", "expected"), [(3, 3), (0, 1)])
def test_a_child_that_exits_stops_the_others(tmp_path: Path, code: int, expected: int) -> None:
    pid_file = tmp_path / "sleeper.pid"

    result = supervise([sleeper(pid_file), quitter(pid_file, code)], stop_timeout=10)

    assert result == expected
    assert not is_alive(read_pid(pid_file))


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    started = time.monotonic()

    result = supervise([sleeper(pid_file, stubborn=True), quitter(pid_file, 4)], stop_timeout=1)

    assert result == 4
    assert not is_alive(read_pid(pid_file))
    assert time.monotonic() - started < 15


def test_signal_handlers_are_restored(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    pid_file = tmp_path / "sleeper.pid"

    supervise([sleeper(pid_file), quitter(pid_file, 1)])

    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_stops_every_child_and_exits_zero(tmp_path: Path, signum: int) -> None:
    first, second = tmp_path / "first.pid", tmp_path / "second.pid"
    script = textwrap.dedent(
        f"""
        import sys
        from chatdesk.ops.processes import Child, reach_warning, supervise
        sleeper = [sys.executable, "-c", {SLEEPER!r}]
        sys.exit(supervise([
            Child("first", [*sleeper, {str(first)!r}, "polite"]),
            Child("second", [*sleeper, {str(second)!r}, "stubborn"]),
        ], stop_timeout=2))
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: first.exists() and second.exists(), timeout=30, what="both children")

        process.send_signal(signum)

        _, stderr = process.communicate(timeout=15)
        assert process.returncode == 0, stderr
        assert f"Received {signal.Signals(signum).name}: stopping the first and the second." in (
            stderr
        )
        assert not is_alive(read_pid(first))
        assert not is_alive(read_pid(second))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.mark.parametrize(
    ("host", "allowed", "warned"),
    [
        ("127.0.0.1", ["127.0.0.1", "localhost", "[::1]"], False),
        ("0.0.0.0", ["127.0.0.1", "localhost", "[::1]"], True),
        ("192.168.1.20", ["localhost"], True),
        ("0.0.0.0", ["desk.example.com"], False),
        ("::1", ["localhost"], False),
    ],
)
def test_listening_beyond_loopback_with_loopback_names_only_is_explained(
    host: str, allowed: list[str], warned: bool
) -> None:
    warning = reach_warning(host, allowed)

    assert (warning is not None) == warned
    if warned:
        assert warning is not None
        assert f"Listening on {host}" in warning
        assert "CHATDESK_ALLOWED_HOSTS" in warning


def test_make_run_takes_the_host_and_the_port_the_readme_names() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "PORT=8080 make run" in readme
    dry_run = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0", "PORT=8080"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "run --demo --host 0.0.0.0 --port 8080" in dry_run.stdout
