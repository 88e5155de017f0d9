"""Schemas shared by several routers."""

from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    detail: str


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """The error answers an endpoint can give, for an honest OpenAPI:
    ``response={200: ThingOut, **errors(400, 401, 404)}``."""
    return dict.fromkeys(codes, ErrorOut)
