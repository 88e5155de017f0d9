"""The periodic sweeps the worker runs. Each app lists its own in a ``sweeps.py`` module
(``SWEEPS = (("outbox", sweep_outbox), ...)``); ``registered()`` reads every installed
app's list once, in the order of INSTALLED_APPS, so the worker needs to know none of them
and the apps need nothing of ours to declare them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule


@dataclass(frozen=True)
class Sweep:
    name: str
    run: Callable[[], object]


def collect(declared: Iterable[tuple[str, Callable[[], object]]]) -> tuple[Sweep, ...]:
    """The sweeps of the apps' lists, in order; a name declared again replaces the first
    in its place (so a list reloaded never runs a sweep twice)."""
    sweeps: dict[str, Sweep] = {}
    for name, run in declared:
        sweeps[name] = Sweep(name, run)
    return tuple(sweeps.values())


@cache
def registered() -> tuple[Sweep, ...]:
    """Every installed app's sweeps, in the order of the apps."""
    declared: list[tuple[str, Callable[[], object]]] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "sweeps"):
            declared.extend(import_module(f"{config.name}.sweeps").SWEEPS)
    return collect(declared)
