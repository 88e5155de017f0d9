"""The periodic sweeps that need several apps, run by the worker (chatdesk.ops.sweeper
reads ``SWEEPS``)."""

from chatdesk.flows.lifecycle import close_inactive_chats
from chatdesk.flows.presence import expire_presence
from chatdesk.flows.queues import reassign_unanswered

SWEEPS = (
    ("presence", expire_presence),  # dead connections; agents gone past the grace period
    ("inactivity", close_inactive_chats),  # live chats with no message for too long
    ("unanswered", reassign_unanswered),  # first messages left unanswered (when enabled)
)
