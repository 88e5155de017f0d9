"""Each app registers its own periodic sweeps; the worker runs what is registered."""

from __future__ import annotations

import pytest

from chatdesk.core import sweeps


def test_registering_a_name_again_replaces_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweeps, "_sweeps", {})
    monkeypatch.setattr(sweeps, "_discovered", True)

    def first() -> None: ...

    def second() -> None: ...

    sweeps.register("outbox", first)
    sweeps.register("counts", second)
    sweeps.register("outbox", second)
    assert sweeps.registered() == (
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
