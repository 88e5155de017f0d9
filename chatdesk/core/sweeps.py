"""The periodic sweeps the worker runs. Each app registers its own in a ``sweeps.py``
module (``register("outbox", sweep_outbox)``); ``registered()`` imports every installed
app's ``sweeps`` module once, so the worker needs to know none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class Sweep:
    name: str
    run: Callable[[], object]


_sweeps: dict[str, Sweep] = {}
_discovered = False


def register(name: str, run: Callable[[], object]) -> None:
    """Add a sweep (registering a name again replaces it, as a module reloaded does)."""
    _sweeps[name] = Sweep(name, run)


def registered() -> tuple[Sweep, ...]:
    """Every sweep, in the order of the installed apps that registered them."""
    global _discovered
    if not _discovered:
        autodiscover_modules("sweeps")
        _discovered = True
    return tuple(_sweeps.values())
