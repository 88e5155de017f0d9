"""Secrets that ride in URLs stay out of the server's logs: ``?token=`` (an API token, as
``/ws/events`` accepts it) and ``hub.verify_token`` (the channel's verify token, which
Meta sends in the query string when it checks a webhook). uvicorn writes every request's
path with its query string to its access log, and every WebSocket's to its error log."""

from __future__ import annotations

import logging
import re

SECRET_QUERY = re.compile(r"(?<=[?&;])((?:hub\.|hub%2[Ee])?(?:verify_)?token)=[^&;\s\"']*")
REDACTED = r"\1=[redacted]"

# The loggers uvicorn writes request lines to.
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return SECRET_QUERY.sub(REDACTED, text)


class RedactSecretQueries(logging.Filter):
    """Rewrites a record's message and arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_on_server_loggers() -> None:
    """Once uvicorn has set up its logging (it does when its Config is made)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretQueries) for f in logger.filters):
            logger.addFilter(RedactSecretQueries())
