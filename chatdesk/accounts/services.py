"""Changes to users: creating and editing them, presence, live connections, API tokens.

What a change means for routing (an agent who can take chats now, or whose chats go back
to the queue) is returned, not acted on: chatdesk.flows.presence and chatdesk.flows.people
hand it to routing after the commit. (Past 400 lines: users, presence and connections share
this module until accounts/services/ is split by topic.)"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q

from chatdesk.accounts import queries
from chatdesk.accounts.access import require_admin
from chatdesk.accounts.models import (
    CHOOSABLE_PRESENCE,
    MAX_CAPACITY,
    MIN_CAPACITY,
    ApiToken,
    Connection,
    Presence,
    Role,
    User,
)
from chatdesk.accounts.queries import CONNECTION_STALE_AFTER, hash_token
from chatdesk.core import clock
from chatdesk.core.errors import BadInput, Conflict
from chatdesk.realtime import log as live_events
from chatdesk.routing.models import Department
from chatdesk.routing.zones import zone_or_none

log = logging.getLogger(__name__)

TOKEN_PREFIX = "cd_"
INSTANCE_MAX_LENGTH = 100  # Connection.instance


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise BadInput(f"Role must be one of {', '.join(Role.values)}; got {role!r}.")


def _check_capacity(capacity: int) -> None:
    if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        raise BadInput(f"Capacity must be between {MIN_CAPACITY} and {MAX_CAPACITY} open chats.")


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise BadInput("The password is too weak: " + " ".join(exc.messages)) from exc


def _departments(ids: Iterable[int]) -> list[Department]:
    wanted = set(ids)
    found = list(Department.objects.filter(pk__in=wanted))
    missing = wanted - {d.pk for d in found}
    if missing:
        raise BadInput(
            "No department has the id " + ", ".join(str(i) for i in sorted(missing)) + "."
        )
    return found


def _check_username(username: str) -> str:
    username = username.strip()
    field = User._meta.get_field("username")
    try:
        field.run_validators(username)
    except ValidationError as exc:
        raise BadInput("The username is not valid: " + " ".join(exc.messages)) from exc
    if not username:
        raise BadInput("A username is required.")
    return username


def _check_display_name(display_name: str) -> str:
    display_name = display_name.strip()
    limit = User._meta.get_field("display_name").max_length or 150
    if len(display_name) > limit:
        raise BadInput(f"A display name can be at most {limit} characters.")
    return display_name


def _check_personal(name: str, value: str) -> str:
    value = value.strip()
    field = User._meta.get_field(name)
    limit = getattr(field, "max_length", None) or 150
    if len(value) > limit:
        label = getattr(field, "verbose_name", name)
        raise BadInput(f"A {label} can be at most {limit} characters.")
    if name == "email" and value:
        try:
            validate_email(value)
        except ValidationError as exc:
            raise BadInput(f"{value!r} is not an email address.") from exc
    return value


def _check_time_zone(time_zone: str) -> str:
    """An IANA zone name this server knows, or "" for the desk's zone."""
    name = time_zone.strip()
    if not name:
        return ""
    limit = User._meta.get_field("time_zone").max_length or 64
    if len(name) > limit or zone_or_none(name) is None:
        raise BadInput(
            f"{name[:limit]!r} is not a time zone this server knows: give a name such as "
            "Europe/London or America/New_York, or leave it empty for the desk's zone."
        )
    return name


def _is_active_admin(user: User) -> bool:
    return user.is_active and user.is_admin


def create_user(
    *,
    username: str,
    password: str | None,
    role: str = Role.AGENT,
    display_name: str = "",
    capacity: int | None = None,
    department_ids: Iterable[int] = (),
    check_password_strength: bool = True,
    time_zone: str = "",
    by: User | None = None,
) -> User:
    """Create a user. Admins get Django's staff flags so the set-up pages open for them.
    ``by`` is the acting user (an admin); None is the system (command line, demo data)."""
    if by is not None:
        require_admin(by)
    username = _check_username(username)
    _check_role(role)
    if capacity is not None:
        _check_capacity(capacity)
    user = User(
        username=username,
        role=role,
        display_name=_check_display_name(display_name),
        time_zone=_check_time_zone(time_zone),
    )
    if capacity is not None:
        user.capacity = capacity
    apply_role_flags(user)
    # None: a user who cannot sign in yet. Any string is a password, so "" is refused
    # rather than quietly becoming "no password".
    if password is None:
        user.set_unusable_password()
    else:
        if check_password_strength:
            _check_password(password, user)
        elif not password:
            raise BadInput("A password cannot be empty; leave it out instead.")
        user.set_password(password)
    with transaction.atomic():
        departments = _departments(department_ids)
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict(f"A user named {username!r} already exists.")
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            raise Conflict(f"A user named {username!r} already exists.") from exc
        user.departments.set(departments)
    return user


@dataclass(frozen=True)
class UserChanges:
    """What a PATCH may change; None means 'leave as is'."""

    username: str | None = None
    password: str | None = None
    role: str | None = None
    display_name: str | None = None
    capacity: int | None = None
    department_ids: list[int] | None = None
    is_active: bool | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class UserUpdate:
    """A user changed; ``may_take_more`` when an agent got room for more chats or new
    departments, so waiting chats may now go to them (chatdesk.flows.people drains)."""

    user: User
    may_take_more: bool = False


def update_user(*, user: User, changes: UserChanges, by: User | None = None) -> User:
    """``change_user``, for a caller that only needs the user: the queues are not drained
    here (chatdesk.flows.people.update_user does that)."""
    return change_user(user=user, changes=changes, by=by).user


def change_user(*, user: User, changes: UserChanges, by: User | None = None) -> UserUpdate:
    """Apply a partial change, all or nothing. The desk keeps at least one active admin,
    so nobody can lock everyone out of the set-up by demoting or deactivating the last."""
    if by is not None:
        require_admin(by)
    username = _check_username(changes.username) if changes.username is not None else None
    if changes.role is not None:
        _check_role(changes.role)
    if changes.capacity is not None:
        _check_capacity(changes.capacity)
    display_name = (
        _check_display_name(changes.display_name) if changes.display_name is not None else None
    )
    personal = {
        name: _check_personal(name, value)
        for name, value in (
            ("first_name", changes.first_name),
            ("last_name", changes.last_name),
            ("email", changes.email),
        )
        if value is not None
    }
    time_zone = _check_time_zone(changes.time_zone) if changes.time_zone is not None else None
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        departments = (
            _departments(changes.department_ids) if changes.department_ids is not None else None
        )
        was_active_admin = _is_active_admin(locked)
        if username is not None and username != locked.username:
            taken = User.objects.filter(username__iexact=username).exclude(pk=locked.pk)
            if taken.exists():
                raise Conflict(f"A user named {username!r} already exists.")
            locked.username = username
        if changes.role is not None:
            locked.role = changes.role
            apply_role_flags(locked)
        if display_name is not None:
            locked.display_name = display_name
        more_room = changes.capacity is not None and changes.capacity > locked.capacity
        if changes.capacity is not None:
            locked.capacity = changes.capacity
        if changes.is_active is not None:
            locked.is_active = changes.is_active
        for name, value in personal.items():
            setattr(locked, name, value)
        if time_zone is not None:
            locked.time_zone = time_zone
        if changes.password is not None:
            _check_password(changes.password, locked)
            locked.set_password(changes.password)
        if was_active_admin and not _is_active_admin(locked):
            _keep_an_admin(besides=locked)
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError as exc:
            raise Conflict(f"A user named {locked.username!r} already exists.") from exc
        if departments is not None:
            locked.departments.set(departments)
        user_changed(locked)
    # Room for more chats, or new departments: waiting chats may now go to them.
    may_take_more = (more_room or departments is not None) and locked.role == Role.AGENT
    return UserUpdate(locked, may_take_more=may_take_more)


def set_time_zone(*, user: User, time_zone: str) -> User:
    """A user's own preference: the zone their pages show times in ("" is the desk's).
    Anyone may set their own; an admin sets another's through ``change_user``."""
    name = _check_time_zone(time_zone)
    with transaction.atomic():
        updated = User.objects.filter(pk=user.pk, is_active=True).update(time_zone=name)
        if not updated:
            raise BadInput("This account is deactivated.")
    user.time_zone = name
    return user


def _keep_an_admin(*, besides: User) -> None:
    # Lock every active admin (in id order, as everyone does) so two admins demoting each
    # other at once cannot both succeed.
    admins = (
        User.objects.select_for_update()
        .filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True)
        .exclude(pk=besides.pk)
        .order_by("pk")
    )
    if not list(admins):
        raise Conflict(
            f"{besides.username} is the desk's last active admin; make another user an admin first."
        )


def apply_role_flags(user: User) -> None:
    """Admins get Django's staff and superuser flags, which open the set-up pages."""
    user.is_staff = user.role == Role.ADMIN
    user.is_superuser = user.role == Role.ADMIN


@dataclass(frozen=True)
class PresenceChange:
    """A presence or connection change, and what it means for routing once committed:
    ``became_available`` (an agent online and available: hand them waiting chats) or
    ``became_unavailable`` (gone: their open chats go back to the queue)."""

    user: User
    became_available: bool = False
    became_unavailable: bool = False


def set_presence(*, user: User, status: str) -> PresenceChange:
    """The user's own choice. Becoming available while online makes an agent available;
    going offline (logging out included) makes one who may hold chats unavailable."""
    if status not in Presence.values:
        raise BadInput(f"Status must be one of {', '.join(Presence.values)}; got {status!r}.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.presence == status:
            return PresenceChange(locked)
        return _apply_presence(locked, status)
    return PresenceChange(locked)


def restore_presence(*, user: User) -> PresenceChange:
    """The user signed in: an agent who is offline (signed out, or new) comes back as they
    last chose, Available or Away (a new agent: Available), so the state is never neither.
    Anyone else, or an agent already Available or Away, is left as they are."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_agent or locked.presence != Presence.OFFLINE:
            return PresenceChange(locked)
        return _apply_presence(locked, locked.chosen_presence)


def _apply_presence(locked: User, status: str) -> PresenceChange:
    """Write a new presence on the locked row; what it means for routing."""
    locked.presence = status
    locked.presence_changed_at = clock.now()
    fields = ["presence", "presence_changed_at"]
    if status in CHOOSABLE_PRESENCE:
        locked.chosen_presence = status
        fields.append("chosen_presence")
    locked.save(update_fields=fields)
    _presence_changed(locked, online=queries.is_online(locked))
    if status == Presence.AVAILABLE and locked.is_agent and queries.is_online(locked):
        return PresenceChange(locked, became_available=True)
    if status == Presence.OFFLINE and _may_hold_chats(locked):
        return PresenceChange(locked, became_unavailable=True)
    return PresenceChange(locked)


# Live connections. A browser's WebSocket is a Connection row, refreshed by heartbeats;
# a user is online while any row is fresh (queries.CONNECTION_STALE_AFTER). When the last
# one goes, User.last_seen_at starts the grace period (CHATDESK_OFFLINE_GRACE) after which
# the presence sweep (chatdesk.flows.presence) sends the agent's open chats back to the queue.


def connection_opened(*, user: User, channel_name: str, instance: str = "") -> PresenceChange:
    """A WebSocket of ``user`` opened. Coming online while available makes an agent
    available."""
    now = clock.now()
    with transaction.atomic():
        # The user's row is the lock that orders their tabs opening and closing, so that
        # exactly one of two tabs opening together sees "was not online".
        locked = User.objects.select_for_update().get(pk=user.pk)
        was_online = queries.is_online(locked)
        Connection.objects.update_or_create(
            channel_name=channel_name,
            defaults={
                "user": locked,
                "instance": instance[:INSTANCE_MAX_LENGTH],
                "opened_at": now,
                "last_seen_at": now,
            },
        )
        if not was_online:
            _presence_changed(locked, online=True)
        available = not was_online and locked.presence == Presence.AVAILABLE and locked.is_agent
    return PresenceChange(locked, became_available=available)


def connections_seen(*, users: Mapping[str, User], instance: str = "") -> list[PresenceChange]:
    """Heartbeats of many connections at once (keyed by channel name): one UPDATE per
    few hundred; a row the sweep already removed is opened again for its user (the
    changes those openings made)."""
    changes: list[PresenceChange] = []
    names = list(users)
    now = clock.now()
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        updated = Connection.objects.filter(channel_name__in=chunk).update(last_seen_at=now)
        if updated == len(chunk):
            continue
        present = set(
            Connection.objects.filter(channel_name__in=chunk).values_list("channel_name", flat=True)
        )
        for name in chunk:
            if name not in present:
                changes.append(
                    connection_opened(user=users[name], channel_name=name, instance=instance)
                )
    return changes


def connection_closed(*, channel_name: str) -> None:
    """A WebSocket closed. When it was the user's last live one, the grace period starts."""
    with transaction.atomic():
        user_id = (
            Connection.objects.filter(channel_name=channel_name)
            .values_list("user_id", flat=True)
            .first()
        )
        if user_id is None:
            return
        user = User.objects.select_for_update().filter(pk=user_id).first()
        Connection.objects.filter(channel_name=channel_name).delete()
        if user is not None and not queries.is_online(user_id):
            User.objects.filter(pk=user_id).update(last_seen_at=clock.now())
            _presence_changed(user, online=False)


def expire_connections() -> list[User]:
    """The presence sweep's half here: forget connections whose heartbeat stopped (a
    killed browser or server), then find the agents who still chose to be at the desk but
    whose last connection has been gone longer than the grace period and who hold chats,
    each decided again under its row lock. Returns them: their chats go back to the queue
    (chatdesk.flows.presence.expire_presence)."""
    _drop_stale_connections()
    now = clock.now()
    cutoff = now - timedelta(seconds=float(settings.CHATDESK_OFFLINE_GRACE))
    handled: list[User] = []
    for user_id in list(
        queries.gone_agents_holding_chats(last_seen_before=cutoff).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            # Decide again under the lock: the agent may have come back meanwhile.
            locked = (
                queries.gone_agents_holding_chats(last_seen_before=cutoff)
                .select_for_update()
                .filter(pk=user_id)
                .first()
            )
            if locked is None:
                continue
        handled.append(locked)
    return handled


def _drop_stale_connections() -> None:
    """Delete connection rows whose heartbeat stopped; their owner's ``last_seen_at``
    becomes the last heartbeat, so the grace period counts from when the browser was
    last known alive."""
    cutoff = clock.now() - CONNECTION_STALE_AFTER
    with transaction.atomic():
        stale = list(
            Connection.objects.filter(last_seen_at__lt=cutoff).values_list(
                "user_id", "last_seen_at"
            )
        )
        if not stale:
            return
        last_seen: dict[int, datetime] = {}
        for user_id, seen in stale:
            last_seen[user_id] = max(seen, last_seen.get(user_id, seen))
        # The same condition again: a heartbeat that landed meanwhile keeps its row.
        Connection.objects.filter(last_seen_at__lt=cutoff).delete()
        for user_id, seen in last_seen.items():
            User.objects.filter(pk=user_id).filter(
                Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=seen)
            ).update(last_seen_at=seen)
        for user in User.objects.filter(pk__in=sorted(last_seen)):
            if not queries.is_online(user):
                _presence_changed(user, online=False)


def _presence_changed(user: User, *, online: bool) -> None:
    live_events.presence_changed(user, online=online)


def user_changed(user: User) -> None:
    """Call inside the transaction that changed the user's role, departments or active
    flag: from that point in the order of live events, their open sockets receive what
    the changed user may see, and a deactivated user's sockets close."""
    live_events.user_changed(user)


def _may_hold_chats(user: User) -> bool:
    return user.is_agent or queries.open_chats_held_by(user).exists()


def issue_api_token(*, user: User, name: str = "") -> str:
    """Create a token and return it in clear; only its hash is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        name=name,
        prefix=token[:10],
        key_hash=hash_token(token),
        created_at=clock.now(),
    )
    return token


def unlock_sign_in(*, user: User, by: User) -> int:
    """Let a locked-out user sign in again at once: their failed attempts (from every
    address) are forgotten. Returns how many addresses were locked out; the unlock is
    logged with who did it (the set-up pages also keep it in the user's history)."""
    require_admin(by)
    with transaction.atomic():
        locked = len(queries.sign_in_lockouts(user))
        AccessAttempt.objects.filter(username__iexact=user.username).delete()
    log.info("sign-in unlocked for user %s by %s (%d lockouts)", user.pk, by.pk, locked)
    return locked
