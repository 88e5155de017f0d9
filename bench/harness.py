"""What every benchmark shares: the mode, scratch databases, and the desk started the way an
operator starts it (``chatdesk serve`` plus two ``chatdesk worker`` processes) on PostgreSQL
and Redis, with the load coming from this process over loopback.

A benchmark is a module in ``bench/`` with ``NAME``, ``TITLE`` and ``run(ctx) -> dict``; it may
also have ``plot(result, out_dir) -> list[tuple[str, str]]`` (PNG file names and captions).
The document ``run`` returns is written to ``bench/results/<NAME>.json``; its ``figures`` make
the table in ``docs/benchmarks.md`` (see ``bench/report.py``).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CHATDESK = str(Path(sys.executable).parent / "chatdesk")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

Mode = Literal["smoke", "quick", "full"]
T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"Gave up after {timeout:.0f} s waiting for {what}.")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def raise_file_limit(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted``; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def machine() -> dict[str, Any]:
    """What the figures were measured on, for the report."""
    memory_kib = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def rss_kib(pid: int) -> int:
    """Resident memory of one process, in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Process:
    """A process this harness started, leading its own process group; output in files."""

    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 10) -> None:
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


@dataclass
class Stack:
    """A desk serving one scratch database: ``chatdesk serve`` and its workers."""

    base_url: str
    database_url: str
    redis_url: str | None
    env: dict[str, str]
    home: Path
    server: Process | None = None
    workers: list[Process] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http") + "/ws/events"

    def run(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [CHATDESK, *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"chatdesk {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def python(self, code: str) -> str:
        """Run ``code`` inside Django (``chatdesk shell -c``); its stdout."""
        return self.run("shell", "--verbosity", "0", "--command", textwrap.dedent(code))

    def query(self, code: str) -> Any:
        """Run ``code``, which prints one JSON document last; that document."""
        return json.loads(self.python(code).strip().splitlines()[-1])

    def token(self, username: str) -> str:
        return self.run("token", username).strip()

    def createuser(self, username: str, role: str, *departments: str) -> str:
        """Create a user with a random password; an API token for them."""
        args = ["createuser", username, "--role", role, "--password", uuid.uuid4().hex]
        for name in departments:
            args += ["--department", name]
        self.run(*args)
        return self.token(username)

    def start_process(self, name: str, *args: str, **extra_env: str) -> Process:
        log = self.home / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [CHATDESK, *args],
                env={**self.env, **extra_env},
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Process(popen, log)

    def start(self, *, workers: int = 2, serve_workers: int = 1, **extra_env: str) -> None:
        """Start ``chatdesk serve`` (with ``serve_workers`` web processes) and ``workers``
        task workers; return once it is ready."""
        port = int(self.base_url.rsplit(":", 1)[1])
        self.server = self.start_process(
            "serve",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(serve_workers),
            **extra_env,
        )
        self.workers = [
            self.start_process(f"worker-{n}", "worker", **extra_env) for n in range(workers)
        ]

        def ready() -> bool:
            assert self.server is not None
            if self.server.popen.poll() is not None:
                raise RuntimeError(f"chatdesk serve exited:\n{self.server.output()}")
            try:
                return httpx.get(self.base_url + "/readyz", timeout=5).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, timeout=60, what="chatdesk serve to answer /readyz")

    def stop(self) -> None:
        for process in [*self.workers, *([self.server] if self.server else [])]:
            process.stop()


@dataclass
class Context:
    """What a benchmark is given: the mode, where to work, and how to start a desk."""

    mode: Mode
    database_url: str
    redis_url: str | None
    work: Path
    log: Callable[[str], None] = print

    def scale(self, *, smoke: T, quick: T, full: T) -> T:
        """The value for this mode: tiny in the test suite's smoke run, larger for real."""
        return {"smoke": smoke, "quick": quick, "full": full}[self.mode]

    @contextmanager
    def scratch_database(self, prefix: str = "bench") -> Iterator[str]:
        """A new empty PostgreSQL database beside ``database_url``, dropped afterwards."""
        name = f"chatdesk_{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        head, _, _ = self.database_url.rpartition("/")
        try:
            yield f"{head}/{name}"
        finally:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )

    def env_for(self, database_url: str, home: Path, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATDESK_")}
        env.pop("REDIS_URL", None)
        env.update(
            DATABASE_URL=database_url,
            CHATDESK_VAR_DIR=str(home / "var"),
            CHATDESK_SECRET_KEY="bench-" + uuid.uuid4().hex,
            PYTHONUNBUFFERED="1",
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(extra)
        return env

    @contextmanager
    def desk(
        self,
        name: str,
        *,
        start: bool = True,
        workers: int = 2,
        serve_workers: int = 1,
        **extra_env: str,
    ) -> Iterator[Stack]:
        """A migrated scratch database and, unless ``start`` is false, the desk serving it;
        everything is stopped and dropped on leaving."""
        home = self.work / f"{name}-{uuid.uuid4().hex[:6]}"
        home.mkdir(parents=True)
        with self.scratch_database(name) as url:
            stack = Stack(
                base_url=f"http://127.0.0.1:{free_port()}",
                database_url=url,
                redis_url=self.redis_url,
                env=self.env_for(url, home, **extra_env),
                home=home,
            )
            stack.run("migrate", "--no-input")
            try:
                if start:
                    stack.start(workers=workers, serve_workers=serve_workers)
                yield stack
            finally:
                stack.stop()


def result(
    name: str, title: str, ctx: Context, figures: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """The document a benchmark returns. Each figure: ``figure`` (what), ``unit``, ``ours``,
    ``limit`` and ``limit_label`` (the machine's limit measured in the same run, or None),
    ``ratio`` (ours ÷ limit, or None), ``goal`` (text) and ``met`` (bool, or None)."""
    return {
        "name": name,
        "title": title,
        "mode": ctx.mode,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "figures": figures,
        **extra,
    }


def figure(
    what: str,
    *,
    unit: str,
    ours: float | None,
    goal: str,
    met: bool | None,
    limit: float | None = None,
    limit_label: str | None = None,
    higher_is_better: bool = True,
) -> dict[str, Any]:
    ratio = None
    if ours is not None and limit:
        ratio = ours / limit if higher_is_better else limit / ours if ours else None
    return {
        "figure": what,
        "unit": unit,
        "ours": ours,
        "limit": limit,
        "limit_label": limit_label,
        "ratio": ratio,
        "goal": goal,
        "met": met,
    }


def write_result(document: dict[str, Any], results: Path = RESULTS) -> Path:
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{document['name']}.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    return path
