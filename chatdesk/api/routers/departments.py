"""/departments"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status

from chatdesk.api.schemas import ErrorOut
from chatdesk.routing import queries, services
from chatdesk.routing.models import Department

router = Router(tags=["departments"])


class DepartmentIn(Schema):
    name: str
    description: str = ""


class DepartmentOut(Schema):
    id: int
    name: str
    description: str


@router.get("", response=list[DepartmentOut])
def list_departments(request: HttpRequest) -> list[Department]:
    return list(queries.departments())


@router.post("", response={201: DepartmentOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut})
def create_department(request: HttpRequest, payload: DepartmentIn) -> Status[Department]:
    department = services.create_department(
        name=payload.name,
        description=payload.description,
        by=request.user,  # type: ignore[arg-type]
    )
    return Status(201, department)
