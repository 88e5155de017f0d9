"""Django settings for Chat Desk, built from the environment (see ``chatdesk.config``)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from chatdesk import config

CONFIG = config.load()
BASE_DIR = Path(__file__).resolve().parent

DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)
PUBLIC_URL = CONFIG.public_url
CSRF_TRUSTED_ORIGINS: list[str] = []
if PUBLIC_URL:
    ALLOWED_HOSTS.append(urlsplit(PUBLIC_URL).hostname or "")
    CSRF_TRUSTED_ORIGINS.append(PUBLIC_URL)
VAR_DIR = CONFIG.var_dir
REDIS_URL = CONFIG.redis_url

INSTALLED_APPS = [
    # First, so its templates brand the set-up pages over the admin's own.
    "chatdesk.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "channels",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "chatdesk.ops",
    "chatdesk.accounts",
    "chatdesk.routing",
    "chatdesk.providers",
    "chatdesk.chats",
    "chatdesk.flows",
    "chatdesk.realtime",
    "chatdesk.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chatdesk.ops.csp.content_security_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "chatdesk.accounts.middleware.idle_session_expiry",
    # The viewer's time zone (theirs, else the desk's) for every time the pages show.
    "chatdesk.web.times.local_time_zone",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "chatdesk.urls"
ASGI_APPLICATION = "chatdesk.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CHANNEL_LAYERS = CONFIG.channel_layers

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in throttling (django-axes): five failed sign-ins for one username from one address
# lock that pair out for 15 minutes; unknown usernames count the same, so the answer never
# tells whether a user exists. A successful sign-in clears the count. Attempts made while
# locked out do not push the end of the lockout further. The address is REMOTE_ADDR, which
# uvicorn takes from X-Forwarded-For only for the proxies `serve --forwarded-allow-ips`
# trusts, so a client cannot pick a new address per attempt.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "chatdesk.web.views.locked_out"
# Failed attempts are kept (that is the throttle); successful sign-ins are not logged to
# the database, which would grow a row per sign-in for ever.
AXES_DISABLE_ACCESS_LOG = True

# Sessions end after this long without a request (minutes; 8 hours, a shift, by default):
# every request pushes the end forward (chatdesk.accounts.middleware). An open page's
# live socket alone does not: a tab left open on an empty desk signs out, and its socket
# is closed when the session ends.
SESSION_IDLE_MINUTES = config.tuning("CHATDESK_SESSION_IDLE_MINUTES", 8 * 60.0)
SESSION_COOKIE_AGE = int(timedelta(minutes=SESSION_IDLE_MINUTES).total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The largest body and the most form fields a request may carry (README, "Limits"); more is
# refused with a sentence (chatdesk/ops/bad_requests.py). Room for a batch of Meta's updates.
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
SESSION_COOKIE_SECURE = bool(PUBLIC_URL and PUBLIC_URL.startswith("https://"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Assets are served by the app itself (no CDN), straight from the installed packages.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO" if DEBUG else "WARNING"},
    "loggers": {"chatdesk": {"level": "INFO", "propagate": True}},
}

# Desk behaviour (tunable later from the set-up pages).
CHATDESK_DEFAULT_CAPACITY = 5
# The zone the pages show times in (a user's own preference overrides it); "" is the
# desk-wide business hours' zone (chatdesk.routing.desk_zone).
CHATDESK_TIME_ZONE = CONFIG.time_zone

# Outbound delivery: attempts, backoff (seconds), the provider call's timeout, how long a
# send may stay in flight before it counts as interrupted, when an interrupted send with no
# status callback is given up, and how often a worker looks for interrupted sends.
# Each may be tuned by an environment variable of the same name.
CHATDESK_SEND_MAX_ATTEMPTS = int(config.tuning("CHATDESK_SEND_MAX_ATTEMPTS", 6))
CHATDESK_SEND_BACKOFF_BASE = config.tuning("CHATDESK_SEND_BACKOFF_BASE", 2.0)
CHATDESK_SEND_BACKOFF_CAP = config.tuning("CHATDESK_SEND_BACKOFF_CAP", 300.0)
CHATDESK_SEND_TIMEOUT = config.tuning("CHATDESK_SEND_TIMEOUT", 15.0)
CHATDESK_SEND_LEASE = config.tuning("CHATDESK_SEND_LEASE", 60.0)
CHATDESK_SEND_AMBIGUOUS_GIVE_UP = config.tuning("CHATDESK_SEND_AMBIGUOUS_GIVE_UP", 900.0)
CHATDESK_OUTBOX_SWEEP_EVERY = config.tuning("CHATDESK_OUTBOX_SWEEP_EVERY", 30.0)
# Pacing: a new channel sends at most this many messages per second (Meta's default
# WhatsApp throughput; each channel may set its own), counted across every worker; a worker
# waits at most CHATDESK_SEND_PACE_WAIT seconds for its channel's next slot, and puts a
# message back for later rather than wait longer.
CHATDESK_SEND_RATE = int(config.tuning("CHATDESK_SEND_RATE", 80))
CHATDESK_SEND_PACE_WAIT = config.tuning("CHATDESK_SEND_PACE_WAIT", 2.0)

# Presence: how often an open WebSocket refreshes its connection row (a row older than
# 60 s no longer counts as online, so keep this well below that), and how long after an
# agent's last connection is gone their open chats wait before going back to the queue.
CHATDESK_WS_HEARTBEAT = config.tuning("CHATDESK_WS_HEARTBEAT", 20.0)
CHATDESK_OFFLINE_GRACE = config.tuning("CHATDESK_OFFLINE_GRACE", 120.0)
# The WebSocket protocol's own keepalive (uvicorn's ping, every 20 s): a client that
# leaves one unanswered this long (seconds) is closed with 1011. A client that stops
# reading is usually let go sooner, when its buffer (CHATDESK_WS_BUFFER) fills: 4429.
CHATDESK_WS_PING_TIMEOUT = config.tuning("CHATDESK_WS_PING_TIMEOUT", 20.0)
# A live chat with no message for this long is closed by the system (24 hours).
CHATDESK_INACTIVITY_CLOSE = config.tuning("CHATDESK_INACTIVITY_CLOSE", 86400.0)
# Reassign a live chat whose first message its agent leaves unanswered this long (seconds);
# unset or empty: never.
CHATDESK_UNANSWERED_REASSIGN = (
    config.tuning("CHATDESK_UNANSWERED_REASSIGN", 0.0)
    if os.environ.get("CHATDESK_UNANSWERED_REASSIGN")
    else 0.0
)

# Live events: how long the event log keeps events for clients catching up (days); how
# many events may wait for one slow WebSocket before it is sent ``resync`` and closed; how
# often each app process reads the log for events from other processes (seconds; with
# Redis this is only a safety net behind pub/sub).
CHATDESK_EVENT_RETENTION_DAYS = config.tuning("CHATDESK_EVENT_RETENTION_DAYS", 7.0)
CHATDESK_WS_BUFFER = int(config.tuning("CHATDESK_WS_BUFFER", 1000))
CHATDESK_EVENTS_POLL = config.tuning("CHATDESK_EVENTS_POLL", 2.0 if REDIS_URL else 0.25)
