"""Schemas shared by several routers."""

from __future__ import annotations

from typing import Annotated

from ninja import Schema
from pydantic import Field

# The largest id the database holds (a signed 64-bit integer).
MAX_ID = 2**63 - 1

# An id given as a filter: one past any database integer is refused with a sentence, the
# same on SQLite and PostgreSQL, rather than matching nothing on one and failing on the other.
IdFilter = Annotated[int, Field(ge=1, le=MAX_ID, description="An id.")]


class ErrorOut(Schema):
    detail: str


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """The error answers an endpoint can give, for an honest OpenAPI:
    ``response={200: ThingOut, **errors(400, 401, 404)}``."""
    return dict.fromkeys(codes, ErrorOut)
