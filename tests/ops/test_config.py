"""Settings come from the environment exactly as the contract names them."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from chatdesk import config


def load(tmp_path: Path, **env: str) -> config.Config:
    return config.load({"CHATDESK_VAR_DIR": str(tmp_path / "var"), **env})


def test_defaults_are_sqlite_under_var_in_memory_layer_and_no_debug(tmp_path):
    cfg = load(tmp_path)
    assert cfg.debug is False
    assert cfg.database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(cfg.database["NAME"]) == (tmp_path / "var" / "chatdesk.sqlite3").resolve()
    assert "journal_mode=WAL" in cfg.database["OPTIONS"]["init_command"]
    assert cfg.database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert cfg.channel_layers["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert cfg.public_url is None
    assert cfg.allowed_hosts == ["127.0.0.1", "localhost", "[::1]"]


def test_var_defaults_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config.var_dir({}) == (tmp_path / "var").resolve()


def test_postgres_url_uses_psycopg_backend(tmp_path):
    cfg = load(tmp_path, DATABASE_URL="postgres://desk:pw@db.example:5433/chatdesk")
    db = cfg.database
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "chatdesk",
        "desk",
        "pw",
        "db.example",
        5433,
    )


def test_postgresql_scheme_is_accepted_too(tmp_path):
    cfg = load(tmp_path, DATABASE_URL="postgresql://u@h/d")
    assert cfg.database["ENGINE"] == "django.db.backends.postgresql"


def test_explicit_sqlite_url(tmp_path):
    cfg = load(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/other.db")
    assert cfg.database["NAME"] == f"{tmp_path}/other.db"


def test_other_database_schemes_are_refused_with_a_sentence(tmp_path):
    with pytest.raises(config.ConfigError, match="postgres"):
        load(tmp_path, DATABASE_URL="mysql://u@h/d")


def test_redis_url_selects_the_redis_channel_layer(tmp_path):
    cfg = load(tmp_path, REDIS_URL="redis://127.0.0.1:6379/2")
    layer = cfg.channel_layers["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert layer["CONFIG"]["hosts"] == ["redis://127.0.0.1:6379/2"]
    assert cfg.redis_url == "redis://127.0.0.1:6379/2"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("off", False)],
)
def test_debug_flag(tmp_path, value, expected):
    assert load(tmp_path, CHATDESK_DEBUG=value).debug is expected


def test_debug_flag_rejects_nonsense(tmp_path):
    with pytest.raises(config.ConfigError, match="CHATDESK_DEBUG"):
        load(tmp_path, CHATDESK_DEBUG="maybe")


def test_allowed_hosts_are_a_comma_list(tmp_path):
    cfg = load(tmp_path, CHATDESK_ALLOWED_HOSTS="desk.example.com, .example.org ,")
    assert cfg.allowed_hosts == ["desk.example.com", ".example.org"]


def test_public_url_loses_its_trailing_slash_and_must_be_http(tmp_path):
    assert load(tmp_path, CHATDESK_PUBLIC_URL="https://desk.example.com/").public_url == (
        "https://desk.example.com"
    )
    with pytest.raises(config.ConfigError, match="CHATDESK_PUBLIC_URL"):
        load(tmp_path, CHATDESK_PUBLIC_URL="desk.example.com")


def test_given_secret_key_is_used_and_nothing_is_written(tmp_path):
    cfg = load(tmp_path, CHATDESK_SECRET_KEY="from-the-environment")
    assert cfg.secret_key == "from-the-environment"
    assert not (tmp_path / "var" / "secret_key").exists()


def test_missing_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load(tmp_path).secret_key
    second = load(tmp_path).secret_key
    path = tmp_path / "var" / "secret_key"
    assert first == second
    assert len(first) >= 50
    assert path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_generated_keys_differ_between_installations(tmp_path):
    assert load(tmp_path / "a").secret_key != load(tmp_path / "b").secret_key


def test_no_secret_key_is_written_in_the_code():
    import chatdesk.settings as settings_module

    source = Path(settings_module.__file__).read_text()
    assert "SECRET_KEY = CONFIG.secret_key" in source
    assert "django-insecure" not in source


def test_tuning_knobs_read_positive_numbers():
    assert config.tuning("X", 2.0, {}) == 2.0
    assert config.tuning("X", 2.0, {"X": "0.5"}) == 0.5
    with pytest.raises(config.ConfigError, match="X must be a number"):
        config.tuning("X", 2.0, {"X": "soon"})
    with pytest.raises(config.ConfigError, match="greater than zero"):
        config.tuning("X", 2.0, {"X": "-1"})
