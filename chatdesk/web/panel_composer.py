"""The chat panel's composer: what it offers a user on a chat (free text, or an approved
template with its variables, or a sentence on why they may not write) and what they had
typed. The send rule is read through ``send_refusal`` alone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from chatdesk.accounts.models import User
from chatdesk.chats import access, queries
from chatdesk.chats.models import Chat, ChatKind, ChatStatus
from chatdesk.chats.window import ContactWindow, contact_window
from chatdesk.core import clock
from chatdesk.core.errors import DeskError, Forbidden
from chatdesk.providers.models import ChannelKind, Template

SUPERVISOR_NOTE = "Supervisors cannot take part in a live chat; add a comment instead."
OPTED_OUT_NOTE = "The contact opted out (STOP); they must send START before you can write."


def send_refusal(chat: Chat, user: User) -> DeskError | None:
    """Why ``user`` may not write into ``chat`` (the service's own refusal), or None when
    they may. The pages ask the send rule here and nowhere else."""
    return access.send_refusal(user, chat)


def _is_live(chat: Chat) -> bool:
    return chat.kind == ChatKind.CHAT and chat.status == ChatStatus.OPEN


@dataclass
class Composer:
    """What the composer offers this user on this chat, and what they had typed."""

    chat: Chat
    may_send: bool
    note: str = ""
    window: ContactWindow | None = None
    opted_out: bool = False
    is_sms: bool = False
    templates: list[Template] = field(default_factory=list)
    template: Template | None = None
    variables: list[str] = field(default_factory=list)
    draft: str = ""
    error: str = ""
    chose_template: bool = False  # the user asked for a template while free text is allowed
    has_templates: bool = False
    sent: bool = False  # just sent: the box starts empty, whatever the page had kept in it

    @property
    def must_use_template(self) -> bool:
        return self.window is not None and self.window.applies and not self.window.is_open

    @property
    def needs_template(self) -> bool:
        """Show the template picker: required outside the window, or chosen."""
        return self.must_use_template or self.chose_template

    @property
    def supervisor_note(self) -> str:
        return SUPERVISOR_NOTE

    @property
    def opted_out_note(self) -> str:
        return OPTED_OUT_NOTE

    @property
    def window_left(self) -> str:
        """The time left in the contact window, as HH:MM:SS (what the countdown starts at)."""
        if self.window is None or self.window.expires_at is None or not self.window.is_open:
            return ""
        seconds = max(0, int((self.window.expires_at - clock.now()).total_seconds()))
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"

    @property
    def fields(self) -> list[tuple[int, str]]:
        if self.template is None:
            return []
        values = self.variables + [""] * self.template.variable_count
        return [(n, values[n - 1]) for n in range(1, self.template.variable_count + 1)]


def composer_for(
    chat: Chat,
    user: User,
    *,
    template_id: str | None = None,
    variables: list[str] | None = None,
    draft: str = "",
    error: str = "",
    chose_template: bool = False,
    sent: bool = False,
) -> Composer:
    refusal = send_refusal(chat, user)
    if refusal is not None:
        note = SUPERVISOR_NOTE if isinstance(refusal, Forbidden) and _is_live(chat) else ""
        return Composer(chat=chat, may_send=False, note=note or refusal.detail)
    composer = Composer(
        chat=chat,
        may_send=True,
        window=contact_window(chat),
        opted_out=queries.is_opted_out(chat),
        is_sms=chat.channel.kind == ChannelKind.SMS,
        variables=list(variables or []),
        draft=draft,
        error=error,
        sent=sent,
    )
    approved = queries.approved_templates(chat.channel)
    # A template may be sent at any time; inside the window it is the user's choice.
    composer.chose_template = (chose_template or template_id is not None) and approved.exists()
    if composer.needs_template:
        composer.templates = list(approved)
        chosen = [t for t in composer.templates if str(t.pk) == (template_id or "")]
        composer.template = chosen[0] if chosen else None
    else:
        composer.has_templates = approved.exists()
    return composer


def variables_of(data: Any) -> list[str]:
    """The template variables a form sent (``var_1``, ``var_2``, …), in their order."""
    numbered = sorted(
        (int(match.group(1)), value)
        for key, value in data.items()
        if (match := re.fullmatch(r"var_(\d{1,2})", key))
    )
    return [value for _, value in numbered]
