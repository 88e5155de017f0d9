"""The periodic sweeps that need several apps, run by the worker (chatdesk.core.sweeps)."""

from chatdesk.core.sweeps import register
from chatdesk.flows.lifecycle import close_inactive_chats
from chatdesk.flows.presence import expire_presence
from chatdesk.flows.queues import reassign_unanswered

register("presence", expire_presence)  # dead connections; agents gone past the grace period
register("inactivity", close_inactive_chats)  # live chats with no message for too long
register("unanswered", reassign_unanswered)  # first messages left unanswered (when enabled)
