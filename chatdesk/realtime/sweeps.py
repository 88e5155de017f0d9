"""The live-event log's periodic sweeps, run by the worker (chatdesk.ops.sweeper reads
``SWEEPS``)."""

from chatdesk.realtime.sequencer import prune_old_events, sequence_stragglers

SWEEPS = (
    ("live events", sequence_stragglers),  # events whose process died before numbering
    ("event log", prune_old_events),  # live events older than the retention
)
