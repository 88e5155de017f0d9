"""Templates that come from Meta: pulling the list, and status changes by webhook."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from django.db import transaction

from chatdesk.accounts.models import User
from chatdesk.core.errors import BadInput, Conflict
from chatdesk.providers import access
from chatdesk.providers.adapters import whatsapp
from chatdesk.providers.adapters.whatsapp_templates import (
    SyncError,
    TemplateStatusChange,
    list_templates,
)
from chatdesk.providers.http import provider_client
from chatdesk.providers.models import Channel, ChannelKind, Template


@dataclass(frozen=True)
class SyncResult:
    created: int
    updated: int
    unchanged: int


def sync_templates(
    *, channel: Channel, by: User | None, client: httpx.Client | None = None
) -> SyncResult:
    """Bring the channel's templates in line with Meta's list (by name and language)."""
    if by is not None:
        access.require_admin(by)
    if channel.kind != ChannelKind.WHATSAPP:
        raise BadInput("Only WhatsApp channels have templates to sync from Meta.")
    waba_id = str(channel.config.get("waba_id", ""))
    token = str(channel.secrets.get("access_token", ""))
    if not waba_id or not token:
        raise BadInput("Set the channel's waba_id and access_token before syncing templates.")
    http = client or provider_client()
    try:
        remote = list(
            list_templates(
                http,
                graph_api_url=str(
                    channel.config.get("graph_api_url") or whatsapp.DEFAULT_GRAPH_API_URL
                ),
                waba_id=waba_id,
                access_token=token,
            )
        )
    except SyncError as exc:
        raise Conflict(str(exc)) from exc
    created = updated = unchanged = 0
    with transaction.atomic():
        existing = {(t.name, t.language): t for t in channel.templates.select_for_update()}
        for item in remote:
            fields = {
                "status": item.status,
                "category": item.category,
                "body": item.body,
                "provider_template_id": item.provider_template_id,
            }
            template = existing.get((item.name, item.language))
            if template is None:
                Template.objects.create(
                    channel=channel, name=item.name, language=item.language, **fields
                )
                created += 1
            elif any(getattr(template, k) != v for k, v in fields.items()):
                for key, value in fields.items():
                    setattr(template, key, value)
                template.save()
                updated += 1
            else:
                unchanged += 1
    return SyncResult(created=created, updated=updated, unchanged=unchanged)


def apply_template_statuses(*, channel: Channel, updates: list[TemplateStatusChange]) -> int:
    """Meta approved, rejected or paused a template: record its new status."""
    changed = 0
    for update in updates:
        templates = Template.objects.filter(channel=channel)
        if update.provider_template_id:
            matched = templates.filter(provider_template_id=update.provider_template_id)
            if matched.exists():
                changed += matched.update(status=update.status)
                continue
        changed += templates.filter(name=update.name, language=update.language).update(
            status=update.status
        )
    return changed
