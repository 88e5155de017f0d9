"""Contacts: one per phone number, named from what the provider tells us."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from chatdesk.chats.models import Contact
from chatdesk.chats.phones import to_e164


def upsert_contact(*, phone: str, name: str = "", in_savepoint: bool = True) -> Contact:
    """The contact with this number, created if new; a non-empty name replaces the old one.

    ``in_savepoint=False`` is for a caller that retries its whole transaction on an
    ``IntegrityError``: the same number created by a concurrent request then fails that
    transaction instead of costing a savepoint on every new contact."""
    e164 = to_e164(phone)
    contact = Contact.objects.filter(phone=e164).first()
    if contact is None:
        if not in_savepoint:
            return Contact.objects.create(phone=e164, name=_clean(name))
        try:
            with transaction.atomic():
                return Contact.objects.create(phone=e164, name=_clean(name))
        except IntegrityError:
            # Created by a concurrent request a moment ago.
            contact = Contact.objects.get(phone=e164)
    return rename_contact(contact, name)


def rename_contact(contact: Contact, name: str) -> Contact:
    """A non-empty name the provider gives replaces the one we had."""
    name = _clean(name)
    if name and contact.name != name:
        contact.name = name
        contact.save(update_fields=["name", "updated_at"])
    return contact


def _clean(name: str) -> str:
    return name.strip()[:200]
