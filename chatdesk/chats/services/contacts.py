"""Contacts: known by a phone number, the provider's user id (WhatsApp's BSUID), a web
visitor id, or several; named from what the provider tells us.

A message carrying more than one identifier links them on one contact; when two contacts
turn out to be one person (one known by number, one by user id), the older keeps both and
the other's chats and opt-outs. The latest identifiers the provider sends win: a user who
changed their number gets a new BSUID, and both move to the contact."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q

from chatdesk.chats.models import Chat, ChatStatus, Contact, ContactOptOut
from chatdesk.chats.phones import to_e164
from chatdesk.core.errors import BadInput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """Who wrote: any of an E.164 phone number, the provider's user id, a visitor id."""

    phone: str | None = None
    provider_user_id: str | None = None
    visitor_id: str | None = None
    username: str = ""

    def matching(self, prefix: str = "") -> Q:
        """The rows of this identity: contacts (``prefix=""``) or, say, ``"contact__"``."""
        found = Q(pk__in=[])
        for field in ("phone", "provider_user_id", "visitor_id"):
            if value := getattr(self, field):
                found |= Q(**{prefix + field: value})
        return found

    @property
    def known(self) -> bool:
        return bool(self.phone or self.provider_user_id or self.visitor_id)


def contact_for(*, identity: Identity, name: str = "", in_savepoint: bool = True) -> Contact:
    """The contact with these identifiers, created if new, linked and renamed.

    ``in_savepoint=False`` is for a caller that retries its whole transaction on an
    ``IntegrityError``: the same contact created by a concurrent request then fails that
    transaction instead of costing a savepoint on every new contact."""
    if not identity.known:
        raise ValueError("a contact needs a phone number, a provider user id or a visitor id")
    found = list(Contact.objects.filter(identity.matching()).order_by("id")[:3])
    if not found:
        if not in_savepoint:
            return _create(identity, name)
        try:
            with transaction.atomic():
                return _create(identity, name)
        except IntegrityError:
            # Created by a concurrent request a moment ago.
            found = list(Contact.objects.filter(identity.matching()).order_by("id")[:3])
    contact = found[0]
    for other in found[1:]:
        merged = merge_contacts(keep=contact, other=other)
        if merged is None:
            # Both are in a conversation on one channel right now: the message goes to
            # the contact its most specific identifier names, and they stay apart.
            contact = _most_specific(found, identity)
            return rename_contact(contact, name)
        contact = merged
    return rename_contact(link_identity(contact, identity), name)


def _create(identity: Identity, name: str) -> Contact:
    return Contact.objects.create(
        phone=identity.phone,
        provider_user_id=identity.provider_user_id,
        visitor_id=identity.visitor_id,
        username=identity.username[:100],
        name=_clean(name),
    )


def _most_specific(found: list[Contact], identity: Identity) -> Contact:
    for contact in found:
        if identity.provider_user_id and contact.provider_user_id == identity.provider_user_id:
            return contact
    return found[0]


def link_identity(contact: Contact, identity: Identity) -> Contact:
    """The identifiers the provider sent now, on the contact (the latest win)."""
    changed = []
    for field in ("phone", "provider_user_id", "visitor_id"):
        value = getattr(identity, field)
        if value and getattr(contact, field) != value:
            setattr(contact, field, value)
            changed.append(field)
    if identity.username and contact.username != identity.username[:100]:
        contact.username = identity.username[:100]
        changed.append("username")
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
    return contact


def merge_contacts(*, keep: Contact, other: Contact) -> Contact | None:
    """``other`` folded into ``keep``: its chats, its opt-outs (one per channel) and the
    identifiers ``keep`` lacks. None, and nothing changed, while both have an open
    conversation of the same kind on the same channel (one chat per contact and channel)."""
    open_here = set(
        Chat.objects.filter(contact=keep, status=ChatStatus.OPEN).values_list("channel_id", "kind")
    )
    open_there = set(
        Chat.objects.filter(contact=other, status=ChatStatus.OPEN).values_list("channel_id", "kind")
    )
    if open_here & open_there:
        log.info("contacts %s and %s are one person, kept apart while both chat", keep.pk, other.pk)
        return None
    Chat.objects.filter(contact=other).update(contact=keep)
    kept_channels = set(keep.opt_outs.values_list("channel_id", flat=True))
    ContactOptOut.objects.filter(contact=other, channel_id__in=kept_channels).delete()
    ContactOptOut.objects.filter(contact=other).update(contact=keep)
    identifiers = {
        field: getattr(keep, field) or getattr(other, field)
        for field in ("phone", "provider_user_id", "visitor_id", "username", "name")
    }
    other.delete()
    for field, value in identifiers.items():
        setattr(keep, field, value)
    keep.save()
    return keep


def change_identifier(*, field: str, old: str, new: str) -> Contact | None:
    """The provider says a user's number or user id changed: the contact known by the old
    one is known by the new one (folded into a contact already known by it)."""
    value_of = {"phone": _phone_or_none, "provider_user_id": _id_or_none}[field]
    old_value, new_value = value_of(old), value_of(new)
    if old_value is None or new_value is None or old_value == new_value:
        return None
    contact = Contact.objects.filter(**{field: old_value}).first()
    if contact is None:
        return None
    holder = Contact.objects.filter(**{field: new_value}).exclude(pk=contact.pk).first()
    if holder is not None:
        first, second = sorted([contact, holder], key=lambda c: c.pk)
        merged = merge_contacts(keep=first, other=second)
        if merged is None:
            return None
        contact = merged
    setattr(contact, field, new_value)
    contact.save(update_fields=[field, "updated_at"])
    return contact


def _phone_or_none(text: str) -> str | None:
    try:
        return to_e164(text)
    except BadInput:  # an unusable number changes nothing
        return None


def _id_or_none(text: str) -> str | None:
    text = text.strip()
    return text[:160] if text else None


def upsert_contact(*, phone: str, name: str = "", in_savepoint: bool = True) -> Contact:
    """The contact with this number, created if new; a non-empty name replaces the old one."""
    return contact_for(
        identity=Identity(phone=to_e164(phone)), name=name, in_savepoint=in_savepoint
    )


def rename_contact(contact: Contact, name: str) -> Contact:
    """A non-empty name the provider gives replaces the one we had."""
    name = _clean(name)
    if name and contact.name != name:
        contact.name = name
        contact.save(update_fields=["name", "updated_at"])
    return contact


def _clean(name: str) -> str:
    return name.strip()[:200]
