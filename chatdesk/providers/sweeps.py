"""The providers' periodic sweep, run by the worker (chatdesk.core.sweeps)."""

from chatdesk.core.sweeps import register
from chatdesk.providers.tasks import sweep_outbox

# Interrupted deliveries: a lost task, a worker killed mid-send.
register("outbox", sweep_outbox)
