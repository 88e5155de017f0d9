"""Who may see and change channels and templates: every signed-in user reads them (agents
pick templates to re-engage), only admins change them (the set-up)."""

from __future__ import annotations

from chatdesk.accounts.access import require_admin
from chatdesk.accounts.models import User
from chatdesk.core.errors import NotFound
from chatdesk.providers.models import Channel, Template

__all__ = ["channel_for", "require_admin", "template_for"]


def channel_for(viewer: User, channel_id: int) -> Channel:
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise NotFound(f"No channel has the id {channel_id}.")
    return channel


def template_for(viewer: User, template_id: int) -> Template:
    template = Template.objects.filter(pk=template_id).first()
    if template is None:
        raise NotFound(f"No template has the id {template_id}.")
    return template
