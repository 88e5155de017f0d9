"""The benchmarks at tiny sizes, run the way ``make bench`` runs them, so the harness, every
benchmark and the report cannot rot. Nothing here measures speed: the numbers only have to
be there.

Like the benchmarks themselves this needs PostgreSQL and Redis (``BENCH_DATABASE_URL``,
default the local server's ``test`` database; Redis from ``REDIS_URL`` when the suite runs
with one, else the local default).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import BENCHMARKS

ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """One ``python -m bench --smoke`` for the whole module: results, docs, its output."""
    work = tmp_path_factory.mktemp("bench")
    results, docs = work / "results", work / "docs"
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "chatdesk.settings"  # not the suite's tests.settings
    if env.get("REDIS_URL"):
        env["BENCH_REDIS_URL"] = env["REDIS_URL"]
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--results", str(results), "--docs", str(docs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    return results, docs, output


@pytest.mark.timeout(1800)
def test_every_benchmark_writes_its_figures(smoke_run: tuple[Path, Path, str]) -> None:
    results, _, output = smoke_run
    for name in BENCHMARKS:
        path = results / f"{name}.json"
        assert path.exists(), f"{name} wrote no result:\n{output}"
        document = json.loads(path.read_text())
        assert document["name"] == name
        assert document["mode"] == "smoke"
        assert document["machine"]["cpus"] >= 1
        assert document["figures"], f"{name} has no figures"
        for figure in document["figures"]:
            assert figure["figure"] and figure["unit"], figure
            assert isinstance(figure["goal"], str), figure  # empty for a figure with no goal
            assert _is_number(figure["ours"]), figure
            assert figure["met"] in (True, False, None), figure
            if figure["limit"] is not None:
                assert _is_number(figure["limit"]) and figure["limit_label"], figure


@pytest.mark.timeout(1800)
def test_the_report_has_a_row_per_figure_and_its_plots(
    smoke_run: tuple[Path, Path, str],
) -> None:
    results, docs, _ = smoke_run
    page = (docs / "benchmarks.md").read_text()
    assert "not run yet" not in page.lower()
    assert "could not be drawn" not in page
    rows = [line for line in page.splitlines() if line.startswith("| ")]
    for name in BENCHMARKS:
        document = json.loads((results / f"{name}.json").read_text())
        assert f"## {document['title']}" in page
        for figure in document["figures"]:
            cell = figure["figure"].replace("|", "\\|")
            assert any(row.startswith(f"| {cell} | ") for row in rows), figure["figure"]
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert images, "the report shows no plot"
    for image in images:
        png = docs / image
        assert png.suffix == ".png" and png.read_bytes().startswith(PNG_MAGIC), image
