"""Errors that services raise; interfaces turn them into answers (HTTP status + sentence).

Each carries a sentence a person understands; it is shown as is.
"""

from __future__ import annotations


class DeskError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadInput(DeskError):
    status_code = 400


class NotAuthenticated(DeskError):
    status_code = 401


class Forbidden(DeskError):
    status_code = 403


class NotFound(DeskError):
    status_code = 404


class Conflict(DeskError):
    """The current state forbids the change (closed chat, nobody available, window shut)."""

    status_code = 409
