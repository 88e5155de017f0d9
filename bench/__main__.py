"""``python -m bench [--full | --smoke] [--only NAME,...]``: run the benchmarks one after
another, write ``bench/results/<name>.json``, and regenerate ``docs/benchmarks.md``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import ModuleType

from bench import harness, report

# In the order they run; each is a module of this package (see bench/harness.py).
BENCHMARKS = ("ingest", "live_latency", "sockets_held", "screens", "outbound")


def load(name: str) -> ModuleType:
    return importlib.import_module(f"bench.{name}")


def available() -> dict[str, ModuleType]:
    """The benchmark modules present, for the report (a missing one shows as not run)."""
    modules = {}
    for name in BENCHMARKS:
        try:
            modules[name] = load(name)
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
    return modules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="the published figures (long)")
    size.add_argument("--smoke", action="store_true", help="seconds, tiny sizes (make test)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--results", type=Path, default=harness.RESULTS)
    parser.add_argument("--docs", type=Path, default=harness.ROOT / "docs")
    args = parser.parse_args(argv)

    mode: harness.Mode = "full" if args.full else "smoke" if args.smoke else "quick"
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")

    failed = []
    with tempfile.TemporaryDirectory(prefix="chatdesk-bench-") as work:
        ctx = harness.Context(
            mode=mode,
            database_url=os.environ.get("BENCH_DATABASE_URL") or harness.DEFAULT_DATABASE_URL,
            redis_url=os.environ.get("BENCH_REDIS_URL", harness.DEFAULT_REDIS_URL) or None,
            work=Path(work),
            log=lambda line: print(line, flush=True),
        )
        for name in names:
            started = time.monotonic()
            ctx.log(f"== {name} ({mode})")
            # How busy the machine already was: other work slows what is measured.
            load_before = [round(n, 2) for n in os.getloadavg()]
            try:
                document = load(name).run(ctx)
                document["load_before"] = load_before
            except Exception as exc:  # one failing benchmark must not hide the others
                traceback.print_exc()
                ctx.log(f"!! {name} failed: {exc!r}")
                failed.append(name)
                continue
            path = harness.write_result(document, args.results)
            ctx.log(f"   {path} ({time.monotonic() - started:.0f} s)")
    page = report.write(args.results, args.docs, available())
    print(f"   {page}", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
