"""The providers' periodic sweep, run by the worker (chatdesk.ops.sweeper reads ``SWEEPS``)."""

from chatdesk.providers.tasks import sweep_outbox

SWEEPS = (
    ("outbox", sweep_outbox),  # interrupted deliveries: a lost task, a worker killed mid-send
)
