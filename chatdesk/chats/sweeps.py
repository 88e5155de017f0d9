"""The chats' periodic sweep, run by the worker (chatdesk.core.sweeps)."""

from chatdesk.chats import counts
from chatdesk.core.sweeps import register

# The tabs' counts: each key's rows folded into one.
register("chat counts", counts.compact)
