"""``chatdesk worker``: works queued tasks, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal

from tests.support.processes import ENQUEUE, Desk, result_of, wait_for


def test_batch_worker_runs_what_is_queued(desk: Desk) -> None:
    task_id = desk.python(ENQUEUE).strip()
    assert result_of(desk, task_id) == ["READY", None]

    worked = desk.run("worker", "--batch")

    assert worked.returncode == 0, worked.stderr
    assert result_of(desk, task_id) == ["SUCCESSFUL", "hello"]


def test_worker_runs_tasks_until_sigterm(desk: Desk) -> None:
    with desk.start("worker", "--interval", "0.2") as worker:
        task_id = desk.python(ENQUEUE).strip()

        wait_for(
            lambda: result_of(desk, task_id) == ["SUCCESSFUL", "hello"],
            timeout=30,
            what="the worker to run the task",
        )
        worker.process.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
