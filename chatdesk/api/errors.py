"""Every API error is JSON ``{"detail": "<a sentence>"}`` with the contract's status codes."""

from __future__ import annotations

from typing import Any

from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from chatdesk.core.errors import DeskError


def _where(loc: list[Any] | tuple[Any, ...]) -> str:
    # ninja prefixes the location with the parameter source ("body", "query", "path")
    # and the schema argument's name; a person wants the field.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in {"payload", "data", "body", "filters"}:
        parts = parts[1:]
    return ".".join(parts)


def describe_validation(errors: list[dict[str, Any]]) -> str:
    sentences = []
    for error in errors:
        where = _where(error.get("loc", ()))
        message = str(error.get("msg", "is not valid"))
        message = message.removeprefix("Value error, ")
        if error.get("type") == "missing":
            sentences.append(f"{where} is required." if where else "A field is missing.")
        elif error.get("type") == "json_invalid" or where in {"", "body"}:
            sentences.append(f"The body is not valid JSON: {message}.")
        else:
            sentences.append(f"{where}: {message}." if where else f"{message}.")
    return " ".join(sentences) or "The request is not valid."


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return api.create_response(
            request, {"detail": describe_validation(list(exc.errors))}, status=400
        )

    @api.exception_handler(AuthenticationError)
    def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request,
            {"detail": "Sign in, or send a valid API token as 'Authorization: Bearer <token>'."},
            status=401,
        )

    @api.exception_handler(AuthorizationError)
    def on_authorization(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        return api.create_response(
            request, {"detail": "You are not allowed to do this."}, status=403
        )

    @api.exception_handler(DeskError)
    def on_desk_error(request: HttpRequest, exc: DeskError) -> HttpResponse:
        return api.create_response(request, {"detail": exc.detail}, status=exc.status_code)

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, {"detail": "Not found."}, status=404)

    @api.exception_handler(OverflowError)
    def on_overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
        # An id or filter past what the database can hold (SQLite refuses to bind an
        # integer over 64 bits): no such row can exist, and nothing was written.
        return api.create_response(
            request, {"detail": "A number in this request is too large to be an id."}, status=400
        )

    @api.exception_handler(DataError)
    def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
        # A value the database cannot keep as given (PostgreSQL refuses NUL characters in
        # text; a number past a column's range): the statement failed, nothing was written.
        return api.create_response(
            request,
            {
                "detail": "A value in this request cannot be stored as given: text may not "
                "contain NUL characters, and numbers must fit their field."
            },
            status=400,
        )

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
