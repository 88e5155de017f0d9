"""WhatsApp message templates as Meta keeps them: the list endpoint and the
``message_template_status_update`` webhook."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from chatdesk.providers.base import load_json

# Meta's statuses mapped to the desk's; only "approved" may be sent.
STATUS_MAP = {
    "APPROVED": "approved",
    "PENDING": "pending",
    "IN_APPEAL": "pending",
    "REJECTED": "rejected",
    "PAUSED": "paused",
    "DISABLED": "disabled",
    "PENDING_DELETION": "disabled",
    "DELETED": "disabled",
    "ARCHIVED": "disabled",
    "LIMIT_EXCEEDED": "disabled",
    "FLAGGED": "paused",
    "REINSTATED": "approved",
}
CATEGORY_MAP = {"MARKETING": "marketing", "UTILITY": "utility", "AUTHENTICATION": "authentication"}


@dataclass(frozen=True)
class RemoteTemplate:
    name: str
    language: str
    status: str
    category: str
    body: str
    provider_template_id: str


@dataclass(frozen=True)
class TemplateStatusChange:
    name: str
    language: str
    status: str
    provider_template_id: str
    reason: str


class SyncError(Exception):
    """Meta refused or could not be reached; the sentence says which."""


def _body_text(components: list[dict[str, Any]]) -> str:
    for component in components or []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            return str(component.get("text", ""))
    return ""


def remote_template(row: dict[str, Any]) -> RemoteTemplate:
    return RemoteTemplate(
        name=str(row.get("name", "")),
        language=str(row.get("language", "")),
        status=STATUS_MAP.get(str(row.get("status", "")).upper(), "pending"),
        category=CATEGORY_MAP.get(str(row.get("category", "")).upper(), "utility"),
        body=_body_text(row.get("components") or []),
        provider_template_id=str(row.get("id", "")),
    )


def list_templates(
    client: httpx.Client, *, graph_api_url: str, waba_id: str, access_token: str
) -> Iterator[RemoteTemplate]:
    """Every template of the WhatsApp Business Account, following Meta's paging."""
    url: str | None = f"{graph_api_url.rstrip('/')}/{waba_id}/message_templates"
    params: dict[str, str] | None = {
        "fields": "name,language,status,category,components,id",
        "limit": "100",
    }
    pages = 0
    while url and pages < 100:
        pages += 1
        try:
            response = client.get(
                url, params=params, headers={"Authorization": f"Bearer {access_token}"}
            )
        except httpx.HTTPError as exc:
            raise SyncError(f"Could not reach WhatsApp: {exc.__class__.__name__}.") from exc
        if response.status_code != 200:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {response.status_code}"
            raise SyncError(f"WhatsApp refused the template list: {message}")
        try:
            payload = response.json()
            rows = payload["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SyncError("WhatsApp's template list was not in the documented shape.") from exc
        for row in rows:
            if isinstance(row, dict) and row.get("name") and row.get("language"):
                yield remote_template(row)
        url = (payload.get("paging") or {}).get("next")
        params = None  # the "next" link carries them


def parse_template_statuses(raw_body: bytes) -> list[TemplateStatusChange]:
    payload = load_json(raw_body)
    changes: list[TemplateStatusChange] = []
    for entry in payload.get("entry") or [] if isinstance(payload, dict) else []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            if not isinstance(change, dict):
                continue
            if change.get("field") != "message_template_status_update":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            event = str(value.get("event", "")).upper()
            if event not in STATUS_MAP:
                continue
            changes.append(
                TemplateStatusChange(
                    name=str(value.get("message_template_name", "")),
                    language=str(value.get("message_template_language", "")),
                    status=STATUS_MAP[event],
                    provider_template_id=str(value.get("message_template_id", "")),
                    reason=str(value.get("reason", "") or ""),
                )
            )
    return changes
