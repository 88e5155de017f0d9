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
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # Parsing drops a national prefix written after the country code (+27 0 82…), and a
    # number written with several (+43 0000 1234) loses one per pass: parse again until
    # nothing changes, so a number normalised twice is the number normalised once. (The
    # contact is looked up by one and stored by the other: they must never differ.) Each
    # pass that changes the number shortens it, so its length bounds the passes.
    for _ in range(len(e164)):
        again = phonenumbers.parse(e164, None)
        if not phonenumbers.is_possible_number(again):
            break
        normal = phonenumbers.format_number(again, phonenumbers.PhoneNumberFormat.E164)
        if normal == e164:
            break
        e164 = normal
    return e164
