"""Where a server process spends its time during a benchmark: a py-spy sample, summed up
by thread and by function, small enough to put in a benchmark's notes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

PY_SPY = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


class Sampler:
    """``py-spy record`` on ``pid`` for ``seconds``, started now, read with ``summary``."""

    def __init__(self, pid: int, seconds: float, out: Path) -> None:
        self.out = out
        self.process: subprocess.Popen[bytes] | None = None
        if PY_SPY is None:
            return
        self.process = subprocess.Popen(
            [
                PY_SPY,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, int(seconds))),
                "--rate",
                "50",
                "--threads",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def summary(self, top: int = 8) -> dict[str, Any] | None:
        """Shares of the samples: per thread, per function of ours (callees included),
        and per function at the top of the stack; None when py-spy could not sample."""
        if self.process is None:
            return None
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if not self.out.exists():
            return None
        threads: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        own: Counter[str] = Counter()
        total = 0
        for line in self.out.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            frames = stack.split(";")
            total += count
            threads[_thread_name(frames[0])] += count
            own[_short(frames[-1], anywhere=True) or "?"] += count
            for name in {_short(frame) for frame in frames[1:]}:
                if name and not name.startswith(ENTRY_POINTS):
                    inclusive[name] += count
        if not total:
            return None
        return {
            "samples": total,
            "threads": {name: round(n / total, 3) for name, n in threads.most_common(4)},
            # Time inside each of our functions, callees included.
            "ours": [
                {"function": name, "share": round(n / total, 3)}
                for name, n in inclusive.most_common(top)
            ],
            # Where the samples were, at the top of the stack.
            "own": [
                {"function": name, "share": round(n / total, 3)} for name, n in own.most_common(top)
            ],
        }


def _thread_name(frame: str) -> str:
    # py-spy names a thread "thread (0x7f...)", or by its Python name.
    return frame.split(": ", 1)[-1].strip()


# The process's own start-up frames, under everything the event loop does.
ENTRY_POINTS = ("chatdesk/cli.py", "chatdesk/ops/processes.py", "chatdesk/ops/management/")


def _short(frame: str, *, anywhere: bool = False) -> str | None:
    """``function (path:line)`` → ``chatdesk/.../file.py:function`` for our code (or,
    ``anywhere``, the last two parts of any path)."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    at = path.rfind("chatdesk/")
    if at >= 0 and "site-packages" not in path[at:]:
        return f"{path[at:]}:{name}"
    if anywhere:
        return "/".join(path.split("/")[-2:]) + f":{name}"
    return None
