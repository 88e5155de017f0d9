"""Regenerates ``docs/benchmarks.md`` (and its plots) from ``bench/results/*.json``.

The page depends only on the results it is given: the same results give the same page.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

PLOTS = "benchmarks"  # the plots' folder, beside the page

INTRO = """\
# Benchmarks

What the desk does under load, each figure beside the limit of the same machine measured in
the same run: a minimal program doing only the unavoidable part of the same work. The desk
runs as an operator runs it: `chatdesk serve` and two `chatdesk worker` processes on
PostgreSQL and Redis, a scratch database per benchmark, the load from a second process over
loopback.

Run them with `make bench` (quick, about 10 minutes) or `make bench FULL=1` (the published
figures; longer steps and larger sizes); `make bench ONLY=ingest` runs one. Each benchmark
writes `bench/results/<name>.json` and this page is regenerated from every result present.
`bench/README.md` says what each one measures. `make test` runs all of them at tiny sizes
so the harness cannot rot; those runs are not measurements.
"""


def write(results: Path, docs: Path, modules: dict[str, ModuleType]) -> Path:
    """Write ``docs/benchmarks.md`` and the plots under ``docs/benchmarks/``; the page's path."""
    documents = _load(results)
    names = list(modules) + sorted(set(documents) - set(modules))
    plots_dir = docs / PLOTS
    lines = [INTRO]
    lines += _machines(names, documents)
    lines += _table(names, documents, modules)
    lines += _misses(names, documents)
    for name in names:
        lines += _section(name, documents.get(name), modules.get(name), plots_dir)
    docs.mkdir(parents=True, exist_ok=True)
    page = docs / "benchmarks.md"
    page.write_text("\n".join(lines).rstrip() + "\n")
    return page


def _load(results: Path) -> dict[str, dict[str, Any]]:
    documents = {}
    for path in sorted(results.glob("*.json")) if results.is_dir() else []:
        document = json.loads(path.read_text())
        documents[str(document.get("name") or path.stem)] = document
    return documents


def _title(name: str, document: dict[str, Any] | None, module: ModuleType | None) -> str:
    if document and document.get("title"):
        return str(document["title"])
    return str(getattr(module, "TITLE", name))


def _machines(names: list[str], documents: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["## Machine and date", ""]
    seen: list[str] = []
    for name in names:
        document = documents.get(name)
        if document and _machine(document) not in seen:
            seen.append(_machine(document))
    if not seen:
        return [*lines, "No benchmark has been run yet.", ""]
    lines += [f"- {text}" for text in seen]
    lines += [
        "",
        "| benchmark | mode | date (UTC) | load average before it (1, 5, 15 min) |",
        "| --- | --- | --- | --- |",
    ]
    for name in names:
        document = documents.get(name)
        if document:
            load = ", ".join(f"{x:.1f}" for x in document.get("load_before") or []) or "?"
            lines.append(
                f"| {name} | {document.get('mode', '?')} | {document.get('date', '?')} | {load} |"
            )
        else:
            lines.append(f"| {name} | not run yet | | |")
    busy = [
        n
        for n in names
        if n in documents
        and (documents[n].get("load_before") or [0])[0]
        > (documents[n].get("machine") or {}).get("cpus", 1)
    ]
    if busy:
        lines += [
            "",
            f"The machine was already busy when {', '.join(busy)} started (a load average "
            "above the CPU count, before the benchmark's own processes; an earlier "
            "benchmark's may still count in it): those figures are lower than the machine "
            "alone would give.",
        ]
    if any(documents[n].get("mode") == "smoke" for n in names if n in documents):
        lines += [
            "",
            "A *smoke* run is the test suite's: tiny sizes and seconds-long steps, to prove the "
            "harness works; its numbers are not measurements.",
        ]
    return [*lines, ""]


def _machine(document: dict[str, Any]) -> str:
    m = document.get("machine") or {}
    return (
        f"{m.get('cpus', '?')} CPUs ({m.get('cpu') or 'unknown model'}), "
        f"{m.get('memory_gib', '?')} GiB memory, {m.get('system', '?')}, "
        f"Python {m.get('python', '?')}"
    )


def number(value: float | None) -> str:
    """A figure as people read it: three significant digits at most, thousands grouped."""
    if value is None:
        return "—"
    if value == int(value) and abs(value) >= 1:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _with_unit(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{number(value)} {unit}".strip()


def _met(met: bool | None) -> str:
    return "yes" if met is True else "**no**" if met is False else "—"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(
    names: list[str], documents: dict[str, dict[str, Any]], modules: dict[str, ModuleType]
) -> list[str]:
    lines = [
        "## Figures",
        "",
        "| figure | ours | the limit | ratio | goal | met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in names:
        document = documents.get(name)
        if document is None:
            title = _title(name, None, modules.get(name))
            lines.append(f"| {_cell(title)} | not run yet | | | | |")
            continue
        for fig in document.get("figures", []):
            unit = str(fig.get("unit") or "")
            limit = _with_unit(fig.get("limit"), unit)
            if fig.get("limit") is not None and fig.get("limit_label"):
                limit += f" ({fig['limit_label']})"
            ratio = fig.get("ratio")
            lines.append(
                "| "
                + " | ".join(
                    _cell(text)
                    for text in (
                        str(fig.get("figure", "")),
                        _with_unit(fig.get("ours"), unit),
                        limit,
                        "—" if ratio is None else f"{ratio:.2f}",
                        str(fig.get("goal", "")),
                        _met(fig.get("met")),
                    )
                )
                + " |"
            )
    return [*lines, ""]


def _misses(names: list[str], documents: dict[str, dict[str, Any]]) -> list[str]:
    misses = [
        f"- {fig.get('figure')}: {_with_unit(fig.get('ours'), str(fig.get('unit') or ''))}; "
        f"the goal is {fig.get('goal')}."
        for name in names
        for fig in (documents.get(name) or {}).get("figures", [])
        if fig.get("met") is False
    ]
    if not misses:
        return []
    return [
        "### Goals not met yet",
        "",
        *misses,
        "",
        "Each benchmark's section below says what limits it.",
        "",
    ]


def _section(
    name: str, document: dict[str, Any] | None, module: ModuleType | None, plots_dir: Path
) -> list[str]:
    lines = [f"## {_title(name, document, module)}", ""]
    doc = (getattr(module, "__doc__", None) or "").strip()
    if doc:
        lines += [doc, ""]
    if document is None:
        return [*lines, "Not run yet.", ""]
    lines += [f"Run in {document.get('mode', '?')} mode on {document.get('date', '?')}.", ""]
    plot = getattr(module, "plot", None)
    if plot is not None:
        try:
            drawn = plot(document, plots_dir)
        except Exception as exc:  # one broken plot must not cost the whole page
            lines += [f"The plots could not be drawn: {exc!r}.", ""]
            drawn = []
        for file_name, caption in drawn:
            lines += [f"![{caption}]({PLOTS}/{file_name})", "", f"*{caption}*", ""]
    notes = document.get("notes") or []
    if notes:
        lines += ["Notes:", "", *[f"- {note}" for note in notes], ""]
    return lines
