from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chatdesk.chats.models import Contact
from chatdesk.chats.phones import to_e164
from chatdesk.chats.services.contacts import upsert_contact
from chatdesk.core.errors import BadInput


@pytest.mark.parametrize(
    "raw",
    ["+27821234567", "27821234567", "+27 82 123 4567", "whatsapp:+27821234567", "tel:+27821234567"],
)
def test_numbers_are_stored_in_e164(raw):
    assert to_e164(raw) == "+27821234567"


def test_national_number_with_a_region():
    assert to_e164("082 123 4567", default_region="ZA") == "+27821234567"


@pytest.mark.parametrize("raw", ["", "hello", "+1", "12"])
def test_nonsense_is_refused_with_a_sentence(raw):
    with pytest.raises(BadInput, match="phone number"):
        to_e164(raw)


def test_upsert_creates_once_and_updates_the_name(db):
    first = upsert_contact(phone="27821234567", name="Carol")
    second = upsert_contact(phone="+27 82 123 4567", name="Carol Customer")
    third = upsert_contact(phone="+27821234567")
    assert first.pk == second.pk == third.pk
    assert Contact.objects.count() == 1
    assert Contact.objects.get().name == "Carol Customer"


@example("+43000001234")  # one national prefix too many for three passes (found by hypothesis)
@example("+4300000000000")
@given(st.from_regex(r"\+?[1-9][0-9]{0,2}0{0,3}[0-9]{4,11}", fullmatch=True))
def test_normalising_twice_is_normalising_once(raw: str) -> None:
    try:
        once = to_e164(raw)
    except BadInput:
        return
    assert to_e164(once) == once
