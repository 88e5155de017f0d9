"""Regenerates ``docs/benchmarks.md`` (and its plots) from ``bench/results/*.json``."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType


def write(results: Path, docs: Path, modules: dict[str, ModuleType]) -> Path:
    raise NotImplementedError
