"""Presence and live connections (accounts.services), then routing once committed: an
agent who became available gets waiting chats, one who left gives theirs back. The
routing hooks are robust: the presence change stands even if routing fails (the error
is logged)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from django.db import transaction

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import User
from chatdesk.accounts.services import PresenceChange
from chatdesk.flows import queues


def after_commit(change: PresenceChange) -> None:
    """Hand the change to routing once it is committed."""
    user = change.user
    if change.became_available:
        transaction.on_commit(lambda: queues.agent_became_available(user=user), robust=True)
    elif change.became_unavailable:
        transaction.on_commit(lambda: queues.agent_became_unavailable(user=user), robust=True)


def set_presence(*, user: User, status: str) -> User:
    """The user's own choice. Becoming available while online hands an agent waiting
    chats; going offline (logging out included) sends their open chats back to the queue."""
    change = account_services.set_presence(user=user, status=status)
    after_commit(change)
    return change.user


def signed_in(*, user: User) -> User:
    """The user signed in on the web: an agent comes back Available or Away, as they last
    chose (a new agent: Available). Their chats start coming once their page connects."""
    change = account_services.restore_presence(user=user)
    after_commit(change)
    return change.user


def connection_opened(*, user: User, channel_name: str, instance: str = "") -> None:
    """A WebSocket of ``user`` opened. Coming online while available hands the agent
    waiting chats."""
    after_commit(
        account_services.connection_opened(user=user, channel_name=channel_name, instance=instance)
    )


def connections_seen(*, users: Mapping[str, User], instance: str = "") -> None:
    """Heartbeats of many connections at once (see accounts.services.connections_seen)."""
    for change in account_services.connections_seen(users=users, instance=instance):
        after_commit(change)


def connection_closed(*, channel_name: str) -> None:
    """A WebSocket closed; the grace period may start (nothing moves until it ends)."""
    account_services.connection_closed(channel_name=channel_name)


def expire_presence() -> list[int]:
    """The presence sweep: forget dead connections, and send back to the queue the open
    chats of agents whose last connection has been gone past the grace period, telling
    each agent which chats and why (the bell). Returns the ids of the agents handled."""
    gone = account_services.expire_connections()
    for user in gone:
        transaction.on_commit(partial(queues.agent_lost_connection, user=user), robust=True)
    return [user.pk for user in gone]
