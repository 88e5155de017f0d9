"""Acting on many chats at once: assign, close or reopen a supervisor's selection.

Each chat goes through the same single-chat service as when it is acted on alone
(``routing.transfers``), in its own transaction, and the answer is per chat: what was done
and, for each chat refused, the service's sentence. A supervisor who selects twenty
tickets expects the eighteen that can go to go, and to be told why the other two did not;
all-or-nothing would hold up the eighteen for the two, and the console and the API would
then have to say which two anyway.

Only those who oversee the desk act in bulk; an agent acts on their own chats one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat
from chatdesk.core.errors import BadInput, DeskError, Forbidden
from chatdesk.flows import lifecycle, transfers

Action = Literal["assign", "close", "reopen"]
ACTIONS: tuple[Action, ...] = get_args(Action)

# The most chats one request may act on (the console lists at most 50 at a time).
MAX_BULK = 100

NOT_OVERSEEING = "Only supervisors and admins can act on several chats at once."
NOTHING_SELECTED = "Select at least one chat first."


@dataclass(frozen=True)
class Refusal:
    """A chat the service refused, with its sentence and the status it would answer alone."""

    chat_id: int
    sentence: str
    status_code: int


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to each chat of the selection, in id order."""

    action: Action
    done: list[Chat] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _checked_ids(chat_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(chat_ids))
    if not ids:
        raise BadInput(NOTHING_SELECTED)
    if len(ids) > MAX_BULK:
        raise BadInput(f"Act on at most {MAX_BULK} chats at once; {len(ids)} were selected.")
    return ids


def _each(action: Action, ids: list[int], by: User, act: Callable[[int], Chat]) -> BulkOutcome:
    if not by.oversees:
        raise Forbidden(NOT_OVERSEEING)
    outcome = BulkOutcome(action=action)
    for chat_id in _checked_ids(ids):
        try:
            outcome.done.append(act(chat_id))
        except DeskError as refusal:
            outcome.refused.append(Refusal(chat_id, refusal.detail, refusal.status_code))
    return outcome


def assign_chats(*, chat_ids: Iterable[int], target: transfers.Target, by: User) -> BulkOutcome:
    """Assign each chat to ``target`` (an agent, or a department whose rule picks one)."""
    if (target.agent_id is None) == (target.department_id is None):
        raise BadInput("Give either agent_id or department_id.")
    return _each(
        "assign",
        list(chat_ids),
        by,
        lambda chat_id: transfers.assign_chat(chat_id=chat_id, target=target, by=by),
    )


def close_chats(*, chat_ids: Iterable[int], by: User) -> BulkOutcome:
    """Close each chat or ticket."""
    return _each(
        "close", list(chat_ids), by, lambda chat_id: lifecycle.close_chat(chat_id=chat_id, by=by)
    )


def reopen_chats(*, chat_ids: Iterable[int], by: User) -> BulkOutcome:
    """Reopen each closed chat or ticket."""
    return _each(
        "reopen", list(chat_ids), by, lambda chat_id: lifecycle.reopen_chat(chat_id=chat_id, by=by)
    )


def act_on_chats(
    *,
    action: str,
    chat_ids: Iterable[int],
    by: User,
    target: transfers.Target | None = None,
) -> BulkOutcome:
    """``action`` ("assign", "close" or "reopen") on each chat; assigning needs ``target``."""
    if action == "assign":
        if target is None:
            raise BadInput("Say whom to assign the chats to: agent_id or department_id.")
        return assign_chats(chat_ids=chat_ids, target=target, by=by)
    if action == "close":
        return close_chats(chat_ids=chat_ids, by=by)
    if action == "reopen":
        return reopen_chats(chat_ids=chat_ids, by=by)
    raise BadInput(f"Action must be one of {', '.join(ACTIONS)}; got {action!r}.")
