"""A live-event log with every event type and every kind of audience, each event made
through its service: what the visibility tests and the wire tests replay."""

from __future__ import annotations

from chatdesk.accounts.models import User
from chatdesk.accounts.services import user_changed
from chatdesk.chats.services.comments import add_comment
from chatdesk.chats.services.inbound import apply_status
from chatdesk.chats.services.outbound import Reply
from chatdesk.flows import lifecycle, transfers
from chatdesk.flows.outbound import send_message
from chatdesk.flows.presence import set_presence
from chatdesk.providers.base import StatusUpdate
from chatdesk.providers.models import Channel
from chatdesk.providers.tasks import deliver
from tests.support.live import Online, customer_writes, phone


def build_a_mixed_log(
    sandbox: Channel,
    support_line: Channel,
    alice: User,
    bob: User,
    dave: User,
    sam: User,
    online: Online,
) -> None:
    """Every event type, each through its service: chats and tickets of two departments,
    a transfer, accepts, a supervisor's assignment, closes, a reopen, comments with
    mentions, a delivery and its status callback, presence."""
    sales_ticket = customer_writes(sandbox, phone(20), "Sales, nobody there").chat
    support_ticket = customer_writes(support_line, phone(21), "Support, nobody there").chat
    online(alice)
    live = customer_writes(sandbox, phone(22), "Live one").chat
    online(bob)
    transfers.assign_chat(chat_id=live.pk, target=transfers.Target(agent_id=bob.pk), by=sam)
    add_comment(chat_id=live.pk, body="@bob see the history, @alice too", by=sam)
    transfers.accept_tickets(by=alice, chat_id=sales_ticket.pk)
    transfers.accept_tickets(by=dave, chat_id=support_ticket.pk)
    lifecycle.close_chat(chat_id=sales_ticket.pk, by=alice)
    lifecycle.reopen_chat(chat_id=sales_ticket.pk, by=alice)
    lifecycle.close_chat(chat_id=support_ticket.pk, by=sam)
    set_presence(user=alice, status="away")
    set_presence(user=bob, status="away")
    queued = customer_writes(sandbox, phone(23), "Another Sales ticket").chat
    transfers.assign_chat(chat_id=queued.pk, target=transfers.Target(agent_id=dave.pk), by=sam)
    unanswered = customer_writes(sandbox, phone(24), "Yet another").chat
    lifecycle.close_chat(chat_id=unanswered.pk, by=sam)
    customer_writes(sandbox, phone(22), "Still there, bob?")
    reply = send_message(chat_id=live.pk, reply=Reply(text="Yes, here"), by=bob)
    assert deliver(reply.pk) == "sent"
    reply.refresh_from_db()
    assert reply.provider_message_id is not None
    apply_status(channel=sandbox, update=StatusUpdate(reply.provider_message_id, "read"))
    add_comment(chat_id=queued.pk, body="@dave thanks for covering Sales", by=sam)
    user_changed(dave)  # internal: addressed to nobody, applied by the hubs
