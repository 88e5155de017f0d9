"""Contacts: one per phone number, named from what the provider tells us."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from chatdesk.chats.models import Contact
from chatdesk.chats.phones import to_e164


def upsert_contact(*, phone: str, name: str = "") -> Contact:
    """The contact with this number, created if new; a non-empty name replaces the old one."""
    e164 = to_e164(phone)
    name = name.strip()[:200]
    contact = Contact.objects.filter(phone=e164).first()
    if contact is None:
        try:
            with transaction.atomic():
                return Contact.objects.create(phone=e164, name=name)
        except IntegrityError:
            # Created by a concurrent request a moment ago.
            contact = Contact.objects.get(phone=e164)
    if name and contact.name != name:
        contact.name = name
        contact.save(update_fields=["name", "updated_at"])
    return contact
