"""``chatdesk templates sync``: pull WhatsApp templates from Meta for one or every channel."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chatdesk.core.errors import DeskError
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.providers.template_sync import sync_templates


class Command(BaseCommand):
    help = "Work with WhatsApp templates. 'sync' pulls them from Meta's template list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["sync"], help="What to do.")
        parser.add_argument(
            "--channel", type=int, help="A WhatsApp channel's id (default: every one)."
        )

    def handle(self, *args: Any, action: str, channel: int | None, **options: Any) -> None:
        channels = Channel.objects.filter(kind=ChannelKind.WHATSAPP, is_active=True)
        if channel is not None:
            channels = channels.filter(pk=channel)
            if not channels.exists():
                raise CommandError(f"No active WhatsApp channel has the id {channel}.")
        if not channels.exists():
            raise CommandError("There is no WhatsApp channel to sync templates for.")
        failures = 0
        for row in channels:
            try:
                result = sync_templates(channel=row, by=None)
            except DeskError as exc:
                failures += 1
                self.stderr.write(f"{row.name}: {exc.detail}")
                continue
            self.stdout.write(
                f"{row.name}: {result.created} new, {result.updated} updated, "
                f"{result.unchanged} unchanged."
            )
        if failures:
            raise CommandError(f"{failures} channel(s) could not be synced.")
