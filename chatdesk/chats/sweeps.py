"""The chats' periodic sweep, run by the worker (chatdesk.ops.sweeper reads ``SWEEPS``)."""

from chatdesk.chats import counts

SWEEPS = (
    ("chat counts", counts.compact),  # the tabs' counts: each key's rows folded into one
)
