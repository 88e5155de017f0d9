"""Sockets held: many idle authenticated ``/ws/events`` connections on one ``chatdesk
serve``, held for minutes from several client processes; the server's memory per
connection, and the connections it closed while they should have stayed open."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

from bench import harness
from bench.live_desk import cpu_seconds, open_sockets, server_errors, set_up, socket_holder
from bench.live_profile import Sampler
from bench.live_sockets import Holders, HoldStatus, Listener

NAME = "sockets_held"
TITLE = "Idle WebSocket connections held on one instance"

GOAL_SOCKETS = 10_000
GOAL_KIB = 50.0
CLIENT_PROCESSES = 4
SAMPLE_EVERY = 5.0  # seconds between memory samples while holding


def run(ctx: harness.Context) -> dict[str, Any]:
    sockets: int = ctx.scale(smoke=50, quick=10_000, full=10_000)
    hold: float = ctx.scale(smoke=3.0, quick=120.0, full=600.0)
    users: int = ctx.scale(smoke=5, quick=100, full=100)
    open_within: float = ctx.scale(smoke=60.0, quick=300.0, full=900.0)
    processes = min(CLIENT_PROCESSES, max(1, sockets // 500))
    # Inherited by the desk's processes, started below; the clients raise their own.
    file_limit = harness.raise_file_limit(sockets + 2048)
    if file_limit < sockets + 256:
        ctx.log(f"   the open-file limit is {file_limit}: fewer sockets than wanted may open")

    with ctx.desk("held") as stack:
        desk = set_up(stack, supervisors=1, idle_users=users)
        assert stack.server is not None
        server = socket_holder(stack.server.pid)
        # One socket first, so the hub and everything a connection loads is in memory
        # before the baseline is taken.
        asyncio.run(_touch(stack.ws_url, stack.base_url, desk.supervisor_tokens[0]))
        time.sleep(1)
        before = harness.rss_kib(server)
        cpu_before = cpu_seconds(server)
        holders = Holders(
            stack.ws_url,
            stack.base_url,
            desk.idle_tokens,
            math.ceil(sockets / processes),
            give_up_after=open_within,
        )
        samples: list[list[float]] = []
        try:
            began = time.monotonic()
            opened = holders.add(sockets)
            open_seconds = time.monotonic() - began
            server = socket_holder(stack.server.pid)
            ctx.log(
                f"   {opened.opened} of {sockets} opened in {open_seconds:.0f} s "
                f"({opened.failed} not within {open_within:.0f} s); holding {hold:.0f} s"
            )
            after_open = harness.rss_kib(server)
            held_from = time.monotonic()
            sampler = None
            if ctx.mode != "smoke":
                sampler = Sampler(server, min(hold, 30), ctx.work / "held.raw")
            samples.append([0.0, after_open, opened.open_now])
            while (left := held_from + hold - time.monotonic()) > 0:
                time.sleep(min(SAMPLE_EVERY, left))
                status = holders.status()
                samples.append(
                    [
                        round(time.monotonic() - held_from, 1),
                        harness.rss_kib(server),
                        status.open_now,
                    ]
                )
            cpu_hold, held_until = cpu_seconds(server), time.monotonic()
            profile = sampler.summary() if sampler is not None else None
            server_fds = open_sockets(server)
            rows = stack.query(
                "from chatdesk.accounts.models import Connection\nprint(Connection.objects.count())"
            )
            after = harness.rss_kib(server)
            final = holders.stop()
        finally:
            holders.stop()
        time.sleep(2)
        after_close = harness.rss_kib(server)
        errors = server_errors(stack.server.output())

    held = final.open_now
    # At the end of the hold when every socket was held to it; else just after they opened
    # (memory freed by sockets that dropped is not given back to the system, so the end's
    # figure would count it against the few left).
    if held and not final.dropped:
        per_connection: float | None = (after - before) / held
        measured = f"{held:,} held to the end"
    elif opened.open_now:
        per_connection = (after_open - before) / opened.open_now
        measured = f"{opened.open_now:,} just opened"
    else:
        per_connection, measured = None, "none opened"
    busy = (cpu_hold - cpu_before) / (held_until - began)
    at_scale = sockets >= GOAL_SOCKETS
    figures = [
        harness.figure(
            "Idle authenticated sockets held",
            unit="sockets",
            ours=held,
            goal=f"{GOAL_SOCKETS:,}",
            met=held >= GOAL_SOCKETS if at_scale else None,
        ),
        harness.figure(
            f"Server memory per socket ({measured})",
            unit="KiB",
            ours=round(per_connection, 1) if per_connection is not None else None,
            goal=f"≤ {GOAL_KIB:.0f} KiB",
            met=per_connection is not None and per_connection <= GOAL_KIB if at_scale else None,
            higher_is_better=False,
        ),
        harness.figure(
            f"Unexpected drops over {hold / 60:.0f} min"
            if hold >= 60
            else f"Unexpected drops over {hold:.0f} s",
            unit="sockets",
            ours=final.dropped,  # the sockets that never opened count against "held"
            goal="0",
            met=final.dropped == 0,
            higher_is_better=False,
        ),
    ]
    return harness.result(
        NAME,
        TITLE,
        ctx,
        figures,
        wanted=sockets,
        hold_seconds=hold,
        client_processes=processes,
        users=users,
        open_seconds=round(open_seconds, 1),
        clients=final.as_dict(),
        server={
            "rss_before_kib": before,
            "rss_after_open_kib": after_open,
            "rss_end_kib": after,
            "rss_after_close_kib": after_close,
            "sockets_open_at_end": server_fds,
            "connection_rows_at_end": rows,
            "cpu_cores_while_holding": round(busy, 3) if busy is not None else None,
        },
        file_limit=file_limit,
        samples=samples,
        profile=profile,
        server_errors=errors,
        notes=notes(sockets, hold, users, processes, open_seconds, final, rows, busy, profile)
        + ([f"The server logged these errors (count): {errors}."] if errors else []),
    )


async def _touch(ws_url: str, origin: str, token: str) -> None:
    listener = Listener(ws_url, origin, token)
    await listener.open()
    await listener.close()


def notes(
    sockets: int,
    hold: float,
    users: int,
    processes: int,
    open_seconds: float,
    final: HoldStatus,
    rows: int,
    busy: float | None,
    profile: dict[str, Any] | None,
) -> list[str]:
    said = [
        f"{sockets:,} sockets opened from {processes} client processes with API tokens of "
        f"{users} agents in no department (so each socket is sent presence changes only, "
        f"and opening them raises {users} presence events rather than one per socket, each "
        f"sent to every socket open); each pings every 20 s as the browser does, and the "
        f"server refreshes each socket's Connection row every 20 s besides.",
        f"Memory per socket: the growth of the server's resident memory from after one "
        f"socket had opened to the end of the {hold:.0f}-s hold, divided by the sockets "
        f"still open (if any dropped, to just after opening, divided by those open then). "
        f"Opening them took {open_seconds:.0f} s. The clients, as browsers do, offer "
        f"permessage-deflate, which the server accepts: each socket keeps its compressor.",
        f"At the end {rows:,} Connection rows; the server used "
        + (f"{busy:.2f} CPU cores" if busy is not None else "no measurable CPU")
        + " on average from the first socket opening to the end of the hold.",
        "A socket closed by the server with 1011 while idle is either an error in the "
        "server's handling of it, or the server's keepalive ping unanswered within 20 s.",
    ]
    if final.failed or final.dropped:
        said.append(
            f"{final.failed} sockets did not open (errors: {dict(final.errors)}); "
            f"{final.dropped} were closed by the server while held (close codes: "
            f"{dict(final.close_codes)})."
        )
    if profile:
        threads = ", ".join(f"{name} {share:.0%}" for name, share in profile["threads"].items())
        ours = ", ".join(
            f"`{item['function']}` {item['share']:.0%}" for item in profile["ours"][:6]
        )
        said.append(
            f"py-spy on the server while holding ({profile['samples']} samples): by thread "
            f"{threads}; in our code (callees included) {ours}."
        )
    return said


def plot(result: dict[str, Any], out_dir: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    samples = result["samples"]
    if not samples:
        return []
    seconds, rss, open_now = zip(*samples, strict=True)
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.plot(seconds, [value / 1024 for value in rss], color="tab:blue")
    axes.axhline(
        result["server"]["rss_before_kib"] / 1024,
        color="grey",
        linestyle=":",
        label="before the sockets opened",
    )
    axes.set_xlabel("seconds holding")
    axes.set_ylabel("server resident memory (MiB)", color="tab:blue")
    axes.legend(loc="lower right", fontsize="small")
    right = axes.twinx()
    right.plot(seconds, open_now, color="tab:orange")
    right.set_ylabel("sockets open", color="tab:orange")
    right.set_ylim(bottom=0)
    axes.set_title(f"{result['wanted']:,} idle sockets held")
    figure.tight_layout()
    name = f"{NAME}.png"
    figure.savefig(out_dir / name, dpi=110)
    plt.close(figure)
    return [(name, "Sockets held: the server's memory and the sockets open while holding.")]
