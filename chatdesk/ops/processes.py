"""The desk's processes: the web server (uvicorn), and ``chatdesk run``'s supervisor that
keeps the web server and a task worker running side by side as one foreground unit.

The children stay in the supervisor's process group, so a Ctrl-C in a terminal reaches
them all; a SIGTERM to the supervisor alone is passed on. If either child dies on its own,
the other is stopped too and the supervisor exits non-zero, so nothing half-runs.
"""

from __future__ import annotations

import copy
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any, TextIO

from django.conf import settings

from chatdesk.ops import redact

ASGI_APPLICATION = "chatdesk.asgi:application"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# How long a child may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0
# After SIGINT, how long the children may take to stop by themselves before they get a
# SIGTERM: a terminal's Ctrl-C reached them too, and a second signal cuts uvicorn's and
# the worker's graceful shutdown short.
SIGINT_GRACE = 2.0


def serve_web(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    forwarded_allow_ips: str | None = None,
    log_level: str = "info",
    workers: int = 1,
) -> None:
    """Run uvicorn with the ASGI app (HTTP and WebSocket) until SIGINT or SIGTERM;
    ``workers`` processes share the listening socket (each with its own live-event hub,
    as separate instances would have), so the desk can use more than one core.

    No lifespan (Django has no startup hooks); the proxy headers (``X-Forwarded-For``,
    ``X-Forwarded-Proto``) are honoured from ``forwarded_allow_ips`` only: by default the
    local host, or uvicorn's ``FORWARDED_ALLOW_IPS`` environment variable.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        ASGI_APPLICATION,
        host=host,
        port=port,
        lifespan="off",
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
        log_config=_log_config(),
        workers=workers,
        ws_ping_interval=20.0,
        ws_ping_timeout=float(settings.CHATDESK_WS_PING_TIMEOUT),
    )
    # After the Config: making it is what sets up uvicorn's loggers. (The worker
    # processes set theirs up from the log_config, which carries the same filter.)
    redact.install_on_server_loggers()
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def reach_warning(host: str, allowed_hosts: Sequence[str]) -> str | None:
    """A sentence for the person starting the desk on an address other machines can reach
    while it answers only to loopback names: their browsers would get a bare "Bad Request"
    (Django refuses a Host it does not know). None when there is nothing to say."""
    if host in LOOPBACK_HOSTS or any(h not in LOOPBACK_HOSTS for h in allowed_hosts):
        return None
    names = ", ".join(allowed_hosts)
    return (
        f"Listening on {host}, but the desk answers only to {names} "
        "(CHATDESK_ALLOWED_HOSTS): to browse from another machine, set "
        "CHATDESK_ALLOWED_HOSTS to the name or address you type in its browser."
    )


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with secrets in query strings redacted from its request lines."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_secret_queries": {"()": redact.RedactSecretQueries}}
    for name in redact.SERVER_LOGGERS:
        config["loggers"].setdefault(name, {})["filters"] = ["redact_secret_queries"]
    return config


@dataclass(frozen=True)
class Child:
    """One process to keep running: a name for messages, and its command line."""

    name: str
    argv: Sequence[str]


def chatdesk_argv(*args: str) -> list[str]:
    """The command line of a ``chatdesk`` subcommand, run by this same Python."""
    return [sys.executable, "-m", "chatdesk.cli", *args]


def desk_children(*, host: str, port: int) -> list[Child]:
    """What ``chatdesk run`` keeps running: ``chatdesk serve`` and ``chatdesk worker``."""
    return [
        Child("web server", chatdesk_argv("serve", "--host", host, "--port", str(port))),
        Child("task worker", chatdesk_argv("worker")),
    ]


class _StopRequest:
    """A signal handler that only remembers the first stop signal; the loop acts on it."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum


def supervise(
    children: Sequence[Child],
    *,
    env: Mapping[str, str] | None = None,
    stop_timeout: float = STOP_TIMEOUT,
    poll_interval: float = 0.1,
    log: TextIO | None = None,
) -> int:
    """Start ``children`` and wait. Return 0 once SIGINT or SIGTERM stopped them all;
    when a child exits on its own, stop the others and return non-zero (its exit code
    when that is positive, else 1). Must run in the main thread (it handles signals)."""
    out = log if log is not None else sys.stderr
    stop = _StopRequest()
    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    running: list[tuple[Child, subprocess.Popen[bytes]]] = []
    try:
        for child in children:
            running.append((child, subprocess.Popen(list(child.argv), env=env)))  # noqa: S603
        ended = _wait_for_stop_or_exit(running, stop, poll_interval)
        if stop.signum is not None:
            names = " and ".join(f"the {child.name}" for child, _ in running)
            print(
                f"Received {signal.Signals(stop.signum).name}: stopping {names}.",
                file=out,
                flush=True,
            )
            return 0
        assert ended is not None
        child, code = ended
        print(
            f"The {child.name} exited on its own (exit code {code}); stopping the rest.",
            file=out,
            flush=True,
        )
        return code if code > 0 else 1
    finally:
        # Still under our handlers: a second Ctrl-C must not cut the clean-up short.
        grace = SIGINT_GRACE if stop.signum == signal.SIGINT else 0.0
        _stop_all([process for _, process in running], stop_timeout, grace=grace)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _wait_for_stop_or_exit(
    running: Sequence[tuple[Child, subprocess.Popen[bytes]]],
    stop: _StopRequest,
    poll_interval: float,
) -> tuple[Child, int] | None:
    while stop.signum is None:
        for child, process in running:
            code = process.poll()
            if code is not None:
                return child, code
        time.sleep(poll_interval)
    return None


def _stop_all(
    processes: Sequence[subprocess.Popen[bytes]], timeout: float, *, grace: float = 0.0
) -> None:
    """After ``grace`` seconds for the children to stop by themselves, SIGTERM every one
    still running, wait up to ``timeout`` in all, then SIGKILL what is left."""
    _wait_all(processes, grace)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    if not _wait_all(processes, timeout):
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def _wait_all(processes: Sequence[subprocess.Popen[bytes]], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds in all for every process to end; did they?"""
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
    return True


def add_listen_arguments(parser: Any) -> None:
    """``--host`` and ``--port``, shared by ``chatdesk serve`` and ``chatdesk run``."""
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="The address to listen on (default: %(default)s)."
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="The port to listen on (default: %(default)s).",
    )
