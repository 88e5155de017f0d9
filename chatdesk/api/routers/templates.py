"""/templates: pre-approved WhatsApp messages with numbered variables."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from chatdesk.api.routers import acting_user
from chatdesk.api.schemas import IdFilter, errors
from chatdesk.providers import access, queries, services
from chatdesk.providers.models import Template

router = Router(tags=["templates"])

CategoryName = Literal["marketing", "utility", "authentication"]
StatusName = Literal["approved", "pending", "rejected", "paused", "disabled"]

NAME_HELP = "Lowercase letters, digits and underscores, as Meta requires."
BODY_HELP = "At most 1024 characters; placeholders {{1}}, {{2}}… numbered from 1."


class TemplateIn(Schema):
    channel_id: int = Field(description="A WhatsApp or sandbox channel.")
    name: str = Field(description=NAME_HELP)
    language: str = Field("en_US", description="A code such as en or en_US.")
    category: CategoryName = "utility"
    body: str = Field(description=BODY_HELP)
    status: StatusName = "pending"


class TemplatePatch(Schema):
    """Only what is sent changes."""

    channel_id: int | None = None
    name: str | None = Field(None, description=NAME_HELP)
    language: str | None = None
    category: CategoryName | None = None
    body: str | None = Field(None, description=BODY_HELP)
    status: StatusName | None = None


class TemplateOut(Schema):
    id: int
    channel_id: int
    name: str
    language: str
    category: CategoryName
    body: str
    status: StatusName
    variable_count: int = Field(description="How many variables a send must fill.")


@router.get("", response={200: list[TemplateOut], **errors(400, 401)})
def list_templates(
    request: HttpRequest, channel_id: IdFilter | None = None, status: StatusName | None = None
) -> list[Template]:
    return list(queries.templates(channel_id=channel_id, status=status))


@router.post("", response={201: TemplateOut, **errors(400, 401, 403, 409)})
def create_template(request: HttpRequest, payload: TemplateIn) -> Status[Template]:
    template = services.create_template(
        channel_id=payload.channel_id,
        name=payload.name,
        language=payload.language,
        category=payload.category,
        body=payload.body,
        status=payload.status,
        by=acting_user(request),
    )
    return Status(201, template)


@router.get("/{template_id}", response={200: TemplateOut, **errors(400, 401, 404)})
def get_template(request: HttpRequest, template_id: int) -> Template:
    return access.template_for(acting_user(request), template_id)


@router.patch("/{template_id}", response={200: TemplateOut, **errors(400, 401, 403, 404, 409)})
def update_template(request: HttpRequest, template_id: int, payload: TemplatePatch) -> Template:
    by = acting_user(request)
    return services.update_template(
        template=access.template_for(by, template_id),
        changes=services.TemplateChanges(
            channel_id=payload.channel_id,
            name=payload.name,
            language=payload.language,
            category=payload.category,
            body=payload.body,
            status=payload.status,
        ),
        by=by,
    )
