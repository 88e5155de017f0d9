"""Stored settings the desk cannot use as they are, from every app in one list: each one
named, with what the desk does meanwhile and how to correct it. ``/readyz`` reports them
and the set-up pages show them; the intake itself never stops for them (business hours
with an unknown time zone are treated as always open, see ``routing.hours``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Model

from chatdesk.providers.queries import channel_faults
from chatdesk.routing.queries import business_hours_faults


@dataclass(frozen=True)
class ConfigurationFault:
    kind: str  # "business_hours" | "channel"
    row: Model  # the stored object at fault
    detail: str  # a sentence for the person who can correct it

    @property
    def object_id(self) -> int:
        return int(self.row.pk)


def configuration_faults() -> list[ConfigurationFault]:
    return [
        *(
            ConfigurationFault("business_hours", row, detail)
            for row, detail in business_hours_faults()
        ),
        *(ConfigurationFault("channel", row, detail) for row, detail in channel_faults()),
    ]
