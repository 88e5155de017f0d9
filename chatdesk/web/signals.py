"""Reactions of the web layer to Django's auth signals."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from chatdesk.accounts.models import Presence, User
from chatdesk.flows import presence as presence_flow
from chatdesk.realtime import transport


@receiver(user_logged_out, dispatch_uid="chatdesk.web.offline_on_logout")
def go_offline_on_logout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    """Signing out means "not at the desk": routing stops offering this user chats, and
    their open chats go back to the queue once the sign-out commits (set_presence)."""
    if user is not None and user.pk is not None:
        presence_flow.set_presence(user=user, status=Presence.OFFLINE)
        if request is not None and request.session.session_key:
            # Sockets opened with this session end now, not at their next heartbeat.
            transport.broadcast_control(
                {"kind": "logout", "user_id": user.pk, "session_key": request.session.session_key}
            )
