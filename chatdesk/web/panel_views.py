"""The chat panel shared by the agent workspace and the supervisor console."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from chatdesk.accounts.models import User
from chatdesk.chats import access
from chatdesk.web.views import role_required

SIGNED_IN = "Sign in to see chats."


@never_cache
@require_GET
@role_required(lambda user: True, SIGNED_IN)
def chat_panel(request: HttpRequest, chat_id: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    chat = access.chat_for(user, chat_id)
    return HttpResponse(f"Chat #{chat.pk}")
