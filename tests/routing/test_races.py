"""Races: many chats, tickets and transfers at once never overfill, double or lose anything.
Row locks matter on PostgreSQL; on SQLite the same tests prove the serialized path."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import OperationalError, connection

from chatdesk.accounts.models import User
from chatdesk.accounts.services import create_user
from chatdesk.chats.models import Chat
from chatdesk.core.errors import Conflict
from chatdesk.flows import transfers
from chatdesk.flows.transfers import accept_tickets
from tests.support.chats import phone, write_in
from tests.support.personas import make_online

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def redelivered(job: Callable[[], Any], attempts: int = 5) -> Any:
    """Run ``job`` as a provider delivers a webhook: SQLite's "database is locked" (its
    writers queued past the busy timeout, on a loaded machine) is the webhook's 503, and
    the provider sends the same request again; nothing was committed by the failed try."""
    for attempt in range(attempts):
        try:
            return job()
        except OperationalError as exc:
            if "database is locked" not in str(exc) or attempt == attempts - 1:
                raise
            connection.close()


def run_in_threads(work: list[Callable[[], Any]], threads: int) -> list[BaseException]:
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for job in work[index::threads]:
                redelivered(job)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=240)
    return errors


def test_500_chats_at_once_fill_10_agents_to_exactly_5_and_queue_the_rest(sandbox, sales):
    agents = [
        make_online(
            create_user(
                username=f"agent{i}", password="correct-horse-battery", department_ids=[sales.pk]
            ),
            capacity=5,
        )
        for i in range(10)
    ]
    jobs: list[Callable[[], Any]] = [partial(write_in, sandbox, phone(n)) for n in range(500)]
    errors = run_in_threads(jobs, threads=16)
    assert not errors, errors[:3]
    chats = Chat.objects.filter(channel=sandbox)
    assert chats.count() == 500  # none lost, none doubled
    per_agent = Counter(chats.exclude(agent=None).values_list("agent_id", flat=True))
    assert per_agent == {agent.pk: 5 for agent in agents}
    waiting = chats.filter(agent=None)
    assert waiting.count() == 450
    assert waiting.filter(kind="chat", queued_at__isnull=False).count() == 450


def test_accepting_the_oldest_tickets_in_parallel_never_takes_one_twice(sandbox, sales):
    for n in range(40):
        write_in(sandbox, phone(n))  # nobody online: 40 unassigned tickets
    agents = [
        create_user(
            username=f"taker{i}", password="correct-horse-battery", department_ids=[sales.pk]
        )
        for i in range(8)
    ]
    taken: list[int] = []
    lock = threading.Lock()

    def take(agent: User) -> None:
        tickets = accept_tickets(by=agent, oldest=5)
        with lock:
            taken.extend(t.pk for t in tickets)

    errors = run_in_threads([partial(take, a) for a in agents], threads=8)
    assert not errors, errors[:3]
    assert len(taken) == len(set(taken)) == 40
    assert Chat.objects.filter(kind="ticket", ticket_state="unassigned").count() == 0
    per_agent = Counter(Chat.objects.filter(kind="ticket").values_list("agent_id", flat=True))
    assert sum(per_agent.values()) == 40 and max(per_agent.values()) <= 5


def test_parallel_transfers_never_overfill_the_receiver(sandbox, sales):
    from chatdesk.flows.transfers import Target, assign_chat

    supervisor = create_user(username="sup", password="correct-horse-battery", role="supervisor")
    givers = [
        make_online(
            create_user(
                username=f"giver{i}", password="correct-horse-battery", department_ids=[sales.pk]
            ),
            capacity=3,
        )
        for i in range(3)
    ]
    for n in range(9):
        write_in(sandbox, phone(n))
    receiver = make_online(
        create_user(
            username="receiver", password="correct-horse-battery", department_ids=[sales.pk]
        ),
        capacity=2,
    )
    chats = list(Chat.objects.exclude(agent=receiver).values_list("pk", flat=True))
    assert len(chats) == 9
    outcomes: list[str] = []
    lock = threading.Lock()

    def transfer(chat_id: int) -> None:
        try:
            assign_chat(chat_id=chat_id, target=Target(agent_id=receiver.pk), by=supervisor)
            result = "moved"
        except Exception as exc:  # the refusals are the point
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    errors = run_in_threads([partial(transfer, c) for c in chats], threads=9)
    assert not errors, errors[:3]
    assert Counter(outcomes) == {"moved": 2, "Conflict": 7}
    assert Chat.objects.filter(agent=receiver, status="open").count() == 2
    assert all(g.chats.filter(status="open").count() <= 3 for g in givers)


def test_two_supervisors_assigning_one_ticket_at_once_one_wins_the_other_is_told(sandbox, sales):
    """On PostgreSQL the two really overlap: the second waits on the ticket's row lock,
    then finds it taken and is refused with who took it."""
    write_in(sandbox, phone(1))  # nobody online: an unassigned ticket
    ticket = Chat.objects.get(kind="ticket", ticket_state="unassigned")
    bosses = [
        create_user(
            username=name, password="correct-horse-battery", role="supervisor", display_name=shown
        )
        for name, shown in (("carol", "Carol Supervisor"), ("sam", "Sam Supervisor"))
    ]
    takers = [
        create_user(
            username=name,
            password="correct-horse-battery",
            department_ids=[sales.pk],
            display_name=shown,
        )
        for name, shown in (("bob", "Bob Agent"), ("dave", "Dave Agent"))
    ]
    names = {boss.pk: boss.name for boss in bosses} | {t.pk: t.name for t in takers}
    won: list[tuple[int, int]] = []
    refused: list[str] = []
    lock = threading.Lock()

    def assign(boss: User, taker: User) -> None:
        # Both chose while the ticket was unassigned (what their dialogs showed).
        target = transfers.Target(agent_id=taker.pk, checks_seen=True, seen_agent_id=None)
        try:
            transfers.assign_chat(chat_id=ticket.pk, target=target, by=boss)
        except Conflict as refusal:
            with lock:
                refused.append(refusal.detail)
            return
        with lock:
            won.append((boss.pk, taker.pk))

    jobs: list[Callable[[], Any]] = [
        partial(assign, boss, taker) for boss, taker in zip(bosses, takers, strict=True)
    ]
    errors = run_in_threads(jobs, threads=2)
    assert not errors, errors[:3]
    assert len(won) == 1 and len(refused) == 1
    boss_id, taker_id = won[0]
    assert refused == [f"{names[boss_id]} assigned it to {names[taker_id]} a moment ago."]
    ticket.refresh_from_db()
    assert ticket.agent_id == taker_id and ticket.ticket_state == "assigned"
    assert ticket.events.filter(kind="assigned").count() == 1
