"""Testing a channel's connection: the provider's cheapest authenticated read with the
stored settings, so an admin learns of a wrong token or id before a customer does."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from chatdesk.accounts.models import User
from chatdesk.providers import access
from chatdesk.providers.base import ConnectionFailed
from chatdesk.providers.http import provider_client
from chatdesk.providers.models import Channel
from chatdesk.providers.queries import config_label, missing_secrets
from chatdesk.providers.registry import sender_for


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    sentence: str  # what the provider said, in our words


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def check_connection(
    *, channel: Channel, by: User | None, client: httpx.Client | None = None
) -> ConnectionCheck:
    """Reads only: nothing is written, whatever the answer."""
    if by is not None:
        access.require_admin(by)
    missing = [config_label(key) for key in missing_secrets(channel)]
    if missing:
        return ConnectionCheck(
            False,
            f"Set the channel's {_and(missing)} first: the provider needs "
            f"{'them' if len(missing) > 1 else 'it'}.",
        )
    try:
        sentence = sender_for(channel).check_connection(client or provider_client())
    except ConnectionFailed as failed:
        return ConnectionCheck(False, failed.reason)
    return ConnectionCheck(True, sentence)
