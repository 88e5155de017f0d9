"""Configuration read from the environment, as the public contract names it.

Kept apart from ``settings.py`` so it can be tested without reloading Django.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class ConfigError(ValueError):
    """An environment variable holds a value we cannot use."""


def parse_bool(name: str, value: str | None, *, default: bool = False) -> bool:
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")


def tuning(name: str, default: float, environ: Mapping[str, str] | None = None) -> float:
    """A positive number from the environment, for the desk's timing knobs."""
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number; got {raw!r}.") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero; got {raw!r}.")
    return value


def time_zone_name(value: str | None) -> str:
    """CHATDESK_TIME_ZONE: an IANA zone name this server knows, or "" (unset: the desk's
    zone is then the desk-wide business hours' zone)."""
    name = (value or "").strip()
    if not name:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(
            f"CHATDESK_TIME_ZONE must be a time zone name such as Europe/London; got {value!r}."
        ) from exc
    return name


def parse_hosts(value: str | None) -> list[str]:
    if not value:
        return ["127.0.0.1", "localhost", "[::1]"]
    return [host.strip() for host in value.split(",") if host.strip()]


def var_dir(environ: Mapping[str, str]) -> Path:
    """The folder for local state (SQLite file, generated secret key): ./var/ by default."""
    return Path(environ.get("CHATDESK_VAR_DIR") or Path.cwd() / "var").resolve()


def database_config(
    url: str | None, var: Path, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    if not url:
        url = f"sqlite:///{var / 'chatdesk.sqlite3'}"
    if not (url.startswith(("postgres://", "postgresql://", "sqlite:"))):
        raise ConfigError("DATABASE_URL must be a postgres://… or sqlite:///… URL.")
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = str(config["NAME"])
        if name and name != ":memory:":
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            # WAL lets the web server and the task worker read while the other writes;
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of failing.
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # Tests get a file beside it, not memory: threads and processes then share it with
        # the same WAL locking as production. One per test process, so runs never collide.
        config["TEST"] = {"NAME": str(var / f"test-{os.getpid()}.sqlite3")}
    else:
        config["ENGINE"] = "django.db.backends.postgresql"
        config.setdefault("OPTIONS", {})
        role = (environ or {}).get("CHATDESK_PROCESS", "")
        if role == "serve":
            # The web server keeps a pool: under ASGI a request's database work may run on
            # a thread of its own, so persistent connections would leak; the pool takes the
            # connection back after every request and spares the next one a new login. A
            # request waits briefly for a connection, then fails (webhooks answer 503).
            config["OPTIONS"]["pool"] = {
                "min_size": 1,
                "max_size": int(tuning("CHATDESK_DB_POOL_SIZE", 10, environ)),
                "timeout": 2,
            }
        elif role == "worker":
            # A task worker is one long-lived thread (and its sweeper): it keeps its
            # connection between tasks and drops it when a health check fails.
            config["CONN_MAX_AGE"] = 300
        config["CONN_HEALTH_CHECKS"] = True
    return config


def channel_layers(redis_url: str | None) -> dict[str, Any]:
    if redis_url:
        return {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [redis_url]},
            }
        }
    return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def secret_key(value: str | None, var: Path) -> str:
    """The given key, or one generated once and kept in var/secret_key (never one in the code)."""
    if value:
        return value
    path = var / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    var.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: when two processes start together, one writes and the other reads its key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class Config:
    debug: bool
    secret_key: str
    allowed_hosts: list[str]
    public_url: str | None
    database: dict[str, Any]
    channel_layers: dict[str, Any]
    redis_url: str | None
    var_dir: Path
    time_zone: str = ""


def load(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    var = var_dir(env)
    # The static folder must exist for the static-file middleware, even when empty.
    (var / "static").mkdir(parents=True, exist_ok=True)
    public_url = (env.get("CHATDESK_PUBLIC_URL") or "").rstrip("/") or None
    if public_url and not public_url.startswith(("http://", "https://")):
        raise ConfigError("CHATDESK_PUBLIC_URL must start with http:// or https://.")
    redis_url = env.get("REDIS_URL") or None
    return Config(
        debug=parse_bool("CHATDESK_DEBUG", env.get("CHATDESK_DEBUG")),
        secret_key=secret_key(env.get("CHATDESK_SECRET_KEY"), var),
        allowed_hosts=parse_hosts(env.get("CHATDESK_ALLOWED_HOSTS")),
        public_url=public_url,
        database=database_config(env.get("DATABASE_URL"), var, env),
        channel_layers=channel_layers(redis_url),
        redis_url=redis_url,
        var_dir=var,
        time_zone=time_zone_name(env.get("CHATDESK_TIME_ZONE")),
    )
