from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ChatsConfig(AppConfig):
    name = "chatdesk.chats"
    label = "chats"
    verbose_name = "Chats and tickets"

    def ready(self) -> None:
        post_migrate.connect(_counts_kept, sender=self)


def _counts_kept(using: str, **_: object) -> None:
    """The tabs' counts' triggers, back if a migration rebuilt the chats table; and no
    counts left over when there are no chats (``flush`` empties the tables in no set order
    on SQLite, so deleting the chats after their counts would leave -1 rows behind)."""
    # Imported when the signal fires: apps.py is read before the models are loaded.
    from django.db import connections

    from chatdesk.chats import counts
    from chatdesk.chats.models import Chat, ChatCount

    counts.ensure_installed(connections[using])
    if not Chat.objects.using(using).exists():
        ChatCount.objects.using(using).all().delete()
