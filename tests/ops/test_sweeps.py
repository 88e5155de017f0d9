"""Each app lists its own periodic sweeps; the worker runs what the apps list."""

from __future__ import annotations

from chatdesk.ops import sweeper as sweeps


def test_declaring_a_name_again_replaces_it() -> None:
    def first() -> None: ...

    def second() -> None: ...

    assert sweeps.collect([("outbox", first), ("counts", second), ("outbox", second)]) == (
        sweeps.Sweep("outbox", second),
        sweeps.Sweep("counts", second),
    )


def test_every_app_sweep_is_found_without_the_worker_naming_it() -> None:
    names = [sweep.name for sweep in sweeps.registered()]
    assert names == [
        "outbox",
        "chat counts",
        "presence",
        "inactivity",
        "unanswered",
        "live events",
        "event log",
    ]
