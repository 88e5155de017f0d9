"""Phone numbers: every contact is stored in E.164 form."""

from __future__ import annotations

import phonenumbers

from chatdesk.core.errors import BadInput


def to_e164(raw: str, *, default_region: str | None = None) -> str:
    """Normalise a number as a provider or a person wrote it (``27821234567``,
    ``+27 82 123 4567``, ``whatsapp:+27821234567``) to E.164, or raise BadInput."""
    text = (raw or "").strip()
    for prefix in ("whatsapp:", "sms:", "tel:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    if text and text[0].isdigit() and default_region is None:
        # Providers send international numbers without the plus (WhatsApp's wa_id).
        text = "+" + text
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise BadInput(f"{raw!r} is not a phone number.") from exc
    if not phonenumbers.is_possible_number(number):
        raise BadInput(f"{raw!r} is not a possible phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
