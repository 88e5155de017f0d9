"""``chatdesk run``: migrate, serve and work tasks as one process group that stops as one."""

from __future__ import annotations

import os
import signal

from tests.support.processes import (
    ENQUEUE,
    Desk,
    Started,
    command_line,
    free_port,
    get,
    group_members,
    result_of,
    wait_for,
)


def _children(run: Started) -> dict[str, int]:
    """The serve and worker children, by subcommand, once both are up."""

    def probe() -> dict[str, int] | None:
        found = {}
        for pid in group_members(run.pid):
            argv = command_line(pid)
            if argv[1:3] == ["-m", "chatdesk.cli"]:
                found[argv[3]] = pid
        return found if set(found) == {"serve", "worker"} else None

    return wait_for(probe, timeout=30, what="the web server and worker children")


def _wait_until_serving(run: Started, port: int) -> None:
    def probe() -> bool:
        if run.process.poll() is not None:
            raise AssertionError(f"chatdesk run exited early:\n{run.output()}")
        response = get(f"http://127.0.0.1:{port}/healthz")
        return response is not None and response.status_code == 200

    wait_for(probe, timeout=45, what="/healthz")


def test_run_demo_serves_works_tasks_and_stops_on_sigterm(fresh_desk: Desk) -> None:
    port = free_port()
    with fresh_desk.start("run", "--port", str(port), "--demo") as run:
        _wait_until_serving(run, port)
        children = _children(run)
        task_id = fresh_desk.python(ENQUEUE).strip()
        wait_for(
            lambda: result_of(fresh_desk, task_id) == ["SUCCESSFUL", "hello"],
            timeout=30,
            what="the worker child to run the task",
        )
        output = run.output()
        assert f"Chat Desk: http://127.0.0.1:{port}/" in output
        assert "naledi    supervisor  demo-supervisor-pass" in output

        run.process.send_signal(signal.SIGTERM)

        assert run.wait(timeout=15) == 0
        assert group_members(run.pid) == []
        assert not any(os.path.exists(f"/proc/{pid}") for pid in children.values())
        assert "Received SIGTERM: stopping the web server and the task worker." in run.output()


def test_ctrl_c_stops_the_whole_group(desk: Desk) -> None:
    port = free_port()
    with desk.start("run", "--port", str(port)) as run:
        _wait_until_serving(run, port)
        _children(run)

        # A terminal's Ctrl-C reaches every process of the foreground group.
        os.killpg(run.pid, signal.SIGINT)

        assert run.wait(timeout=15) == 0
        assert group_members(run.pid) == []
        assert "Received SIGINT" in run.output()


def test_when_a_child_dies_the_other_is_stopped_and_run_fails(desk: Desk) -> None:
    port = free_port()
    with desk.start("run", "--port", str(port)) as run:
        _wait_until_serving(run, port)
        children = _children(run)

        os.kill(children["worker"], signal.SIGKILL)

        assert run.wait(timeout=15) != 0
        assert group_members(run.pid) == []
        assert "The task worker exited on its own" in run.output()
        assert get(f"http://127.0.0.1:{port}/healthz") is None
