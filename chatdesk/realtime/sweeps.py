"""The live-event log's periodic sweeps, run by the worker (chatdesk.core.sweeps)."""

from chatdesk.core.sweeps import register
from chatdesk.realtime.sequencer import prune_old_events, sequence_stragglers

register("live events", sequence_stragglers)  # events whose process died before numbering
register("event log", prune_old_events)  # live events older than the retention
