"""The tabs' counts the database keeps (``ChatCount``, ``chats/counts.py``): after every
kind of change to chats they equal a direct count of the chats, before the worker folds
their rows and after; the summaries and totals read from them say what counting the chats
says, for everyone who may look."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatdesk.accounts.models import User
from chatdesk.accounts.services import create_user
from chatdesk.chats import counts, queries
from chatdesk.chats.access import visible_chats
from chatdesk.chats.models import Chat, ChatCount, ChatStatus, TicketState
from chatdesk.core import clock
from chatdesk.core.errors import DeskError
from chatdesk.flows import queues as assignment
from chatdesk.flows.lifecycle import close_chat, close_inactive_chats, reopen_chat
from chatdesk.flows.presence import set_presence
from chatdesk.flows.transfers import Target, accept_tickets, assign_chat
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.routing.models import Department
from tests.support.chats import phone, write_in
from tests.support.personas import make_online

Key = tuple[str, str, str | None, int | None, int | None]


def direct_keys() -> dict[Key, int]:
    """The chats counted one by one, by the key the triggers keep."""
    rows = Chat.objects.values_list("kind", "status", "ticket_state", "agent_id", "department_id")
    return dict(
        Counter(
            (kind, status, state, agent, department if agent is None else None)
            for kind, status, state, agent, department in rows
        )
    )


def kept_keys() -> dict[Key, int]:
    """The kept rows added up per key; keys adding up to nothing left out."""
    sums: Counter[Key] = Counter()
    for *key, n in ChatCount.objects.values_list(
        "kind", "status", "ticket_state", "agent_id", "department_id", "n"
    ):
        sums[tuple(key)] += n  # type: ignore[index]
    return {key: n for key, n in sums.items() if n != 0}


def expected_summary(tab: str, seen_by: User | None) -> tuple[dict[int, int], int]:
    chats = Chat.objects.all() if seen_by is None else visible_chats(seen_by)
    per_agent: Counter[int | None] = Counter(
        chats.filter(queries.tab_filter(tab)).values_list("agent_id", flat=True)
    )
    unassigned = per_agent.pop(None, 0)
    return {agent: n for agent, n in per_agent.items() if agent is not None}, unassigned


def assert_reads_agree(people: list[User]) -> None:
    assert kept_keys() == direct_keys()
    for tab in queries.TABS:
        for who in [None, *people]:
            summary = queries.tab_summary(tab, seen_by=who)
            per_agent, unassigned = expected_summary(tab, who)
            assert {a.agent_id: a.count for a in summary.agents} == per_agent, (tab, who)
            assert summary.unassigned == unassigned, (tab, who)
            assert summary.total == sum(per_agent.values()) + unassigned, (tab, who)
    assert queries.tab_totals() == {
        tab: Chat.objects.filter(queries.tab_filter(tab)).count() for tab in queries.TABS
    }
    tickets = Chat.objects.filter(kind="ticket")
    for agent_id, no_agent, chosen in [
        (None, False, tickets),
        (None, True, tickets.filter(agent__isnull=True)),
        *((p.pk, False, tickets.filter(agent=p)) for p in people),
    ]:
        assert queries.ticket_state_counts(agent_id=agent_id, no_agent=no_agent) == {
            state: chosen.filter(ticket_state=state).count() for state in TicketState.values
        }


def assert_exact(people: list[User]) -> None:
    """What every read says equals a direct count, with the rows as the changes left them
    and again once folded into one row per key."""
    assert_reads_agree(people)
    counts.compact()
    assert ChatCount.objects.count() == len(direct_keys())  # one row per key, none zero
    assert not ChatCount.objects.filter(n__lte=0).exists()
    assert_reads_agree(people)


@contextmanager
def committing(capture: Any) -> Iterator[None]:
    """Run what the services leave for after the commit (queue drains) as it happens."""
    with capture(execute=True):
        yield


@pytest.fixture
def support_line(support: Department) -> Channel:
    return Channel.objects.create(kind=ChannelKind.SANDBOX, name="Support line", department=support)


@pytest.fixture
def people(alice: User, bob: User, dave: User, sam: User) -> list[User]:
    return [alice, bob, dave, sam]


def test_every_kind_of_change_keeps_the_counts_exact(
    sandbox, support_line, people, django_capture_on_commit_callbacks
):
    alice, bob, dave, sam = people
    step = partial(committing, django_capture_on_commit_callbacks)
    assert_exact(people)

    # Created: nobody online, so tickets in Sales and Support.
    for n in range(3):
        write_in(sandbox, phone(n))
    write_in(support_line, phone(10))
    assert Chat.objects.filter(kind="ticket", ticket_state="unassigned").count() == 4
    assert_exact(people)

    # Live chats: two to Alice, the rest wait in the queue.
    make_online(alice, capacity=2)
    for n in range(20, 24):
        write_in(sandbox, phone(n))
    assert Chat.objects.filter(kind="chat", agent=alice).count() == 2
    assert Chat.objects.filter(kind="chat", agent__isnull=True).count() == 2
    assert_exact(people)

    # Assigned by a supervisor from the queue, beyond capacity.
    waiting = Chat.objects.filter(kind="chat", agent__isnull=True).order_by("pk").first()
    assert waiting is not None
    with step():
        assign_chat(
            chat_id=waiting.pk, target=Target(agent_id=alice.pk, override_capacity=True), by=sam
        )
    assert_exact(people)

    # Transferred by its agent to another, then by a supervisor to another department.
    make_online(bob, capacity=5)
    make_online(dave, capacity=5)
    first = Chat.objects.filter(kind="chat", agent=alice, status="open").order_by("pk").first()
    assert first is not None
    with step():
        assign_chat(chat_id=first.pk, target=Target(agent_id=bob.pk), by=alice)
    assert_exact(people)
    support = dave.departments.get()
    with step():
        assign_chat(chat_id=first.pk, target=Target(department_id=support.pk), by=sam)
    assert Chat.objects.get(pk=first.pk).agent == dave
    assert_exact(people)

    # Closed, and reopened.
    with step():
        close_chat(chat_id=first.pk, by=sam)
    assert_exact(people)
    with step():
        reopen_chat(chat_id=first.pk, by=sam)
    assert_exact(people)

    # Tickets: accepted, assigned by a supervisor, closed, reopened.
    with step():
        (accepted,) = accept_tickets(by=bob, oldest=1)
    with step():
        assign_chat(chat_id=accepted.pk, target=Target(agent_id=alice.pk), by=sam)
    ticket = Chat.objects.get(kind="ticket", ticket_state="unassigned", department=support)
    with step():
        assign_chat(chat_id=ticket.pk, target=Target(agent_id=dave.pk), by=sam)
    assert_exact(people)
    with step():
        close_chat(chat_id=accepted.pk, by=alice)
    assert Chat.objects.get(pk=accepted.pk).ticket_state == TicketState.CLOSED
    assert_exact(people)
    with step():
        reopen_chat(chat_id=accepted.pk, by=sam)
    assert_exact(people)

    # An agent gone offline: their live chats go back to the queue (and on to others).
    with step():
        set_presence(user=alice, status="offline")
    assert not Chat.objects.filter(kind="chat", agent=alice, status="open").exists()
    assert_exact(people)

    # Inactive chats closed by the sweep; a bulk update; deleted chats.
    long_ago = clock.now().replace(year=2000)
    Chat.objects.filter(status="open", kind="chat").update(last_message_at=long_ago)
    with step():
        assert close_inactive_chats()
    assert_exact(people)
    Chat.objects.filter(kind="chat", status=ChatStatus.CLOSED).update(agent=None)
    assert_exact(people)
    Chat.objects.filter(pk__in=list(Chat.objects.values_list("pk", flat=True)[:3])).delete()
    assert_exact(people)


def test_a_deleted_agent_or_department_moves_their_count(sandbox, support_line, people):
    alice, bob, dave, sam = people
    make_online(alice, capacity=5)
    write_in(sandbox, phone(1))
    write_in(sandbox, phone(2))
    write_in(support_line, phone(3))  # an unassigned ticket of Support
    counts.compact()
    assert queries.tab_summary("chats").agents[0].agent_id == alice.pk
    alice.delete()  # her chats keep going, held by nobody
    assert queries.tab_summary("chats").agents == []
    assert queries.tab_summary("chats").unassigned == 2
    assert_exact([bob, dave, sam])
    assert queries.tab_summary("tickets", seen_by=dave).unassigned == 1
    dave.departments.get().delete()
    # The ticket outlives its department: it waits in the desk's queue, still counted for
    # every agent (dave included), never lost.
    assert queries.tab_summary("tickets", seen_by=dave).unassigned == 1
    assert queries.tab_summary("tickets", seen_by=bob).unassigned == 1
    assert_exact([bob, dave, sam])


def test_a_refused_change_leaves_no_count_behind(sandbox, people):
    alice, _, _, sam = people
    make_online(alice, capacity=5)
    chat = Chat.objects.get(pk=write_in(sandbox, phone(1)).chat_id)
    close_chat(chat_id=chat.pk, by=alice)
    rows = ChatCount.objects.count()
    with pytest.raises(DeskError, match="already closed"):
        close_chat(chat_id=chat.pk, by=sam)
    with pytest.raises(RuntimeError), transaction.atomic():
        Chat.objects.filter(pk=chat.pk).update(status="open", closed_at=None)
        raise RuntimeError("rolled back")
    assert ChatCount.objects.count() == rows
    assert_exact(people)


def test_saving_a_chat_without_changing_its_key_writes_no_row(sandbox, people):
    make_online(people[0], capacity=5)
    chat = Chat.objects.get(pk=write_in(sandbox, phone(1)).chat_id)
    counts.compact()
    rows = list(ChatCount.objects.values_list("pk", "n"))
    chat.last_message_at = clock.now()
    chat.agent_read_at = clock.now()
    chat.save()  # every column set again, the key's among them
    write_in(sandbox, phone(1), "And another thing")  # joins the open chat
    assert list(ChatCount.objects.values_list("pk", "n")) == rows


def test_folding_twice_changes_nothing_and_reads_stay_one_query(
    sandbox, people, django_assert_num_queries
):
    for n in range(5):
        write_in(sandbox, phone(n))
    assert ChatCount.objects.count() >= 5  # a row per change, not yet folded
    assert counts.compact() > 0
    assert counts.compact() == 0
    with django_assert_num_queries(1):
        queries.tab_summary("tickets")
    with django_assert_num_queries(1):
        queries.tab_totals()
    with django_assert_num_queries(1):
        queries.ticket_state_counts()


def test_recounting_repairs_counts_made_around_the_triggers(sandbox, people):
    for n in range(4):
        write_in(sandbox, phone(n))
    ChatCount.objects.all().delete()  # as if loaded with the triggers off
    assert kept_keys() != direct_keys()
    counts.recount()
    assert ChatCount.objects.count() == len(direct_keys())
    assert_exact(people)


def test_triggers_a_migration_dropped_come_back_after_migrating(sandbox, people):
    """SQLite drops a table's triggers when Django rebuilds it to alter a column."""
    write_in(sandbox, phone(1))
    assert not counts.ensure_installed(connection)  # all there: nothing to do
    counts.uninstall(connection)
    write_in(sandbox, phone(2))  # not counted
    assert kept_keys() != direct_keys()
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    assert kept_keys() == direct_keys()
    write_in(sandbox, phone(3))  # counted again
    assert_exact(people)


# --- Random histories -----------------------------------------------------------------------

OPERATIONS = (
    "write",
    "close",
    "reopen",
    "accept",
    "assign",
    "transfer",
    "offline",
    "online",
    "fold",
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 7), st.integers(0, 3)),
        min_size=1,
        max_size=25,
    )
)
def test_any_history_of_service_calls_keeps_the_counts_exact(
    sandbox, support_line, people, history
):
    alice, bob, dave, sam = people
    agents = [alice, bob, dave]
    lines = [sandbox, support_line]
    with transaction.atomic():
        for operation, n, who in history:
            agent = agents[who % 3]
            chats = list(Chat.objects.order_by("pk"))
            chat = chats[n % len(chats)] if chats else None
            try:
                if operation == "write":
                    write_in(lines[who % 2], phone(n))
                elif operation == "close" and chat is not None:
                    close_chat(chat_id=chat.pk, by=sam)
                elif operation == "reopen" and chat is not None:
                    reopen_chat(chat_id=chat.pk, by=sam)
                elif operation == "accept":
                    accept_tickets(by=agent, oldest=1 + n % 2)
                elif operation in ("assign", "transfer") and chat is not None:
                    target = (
                        Target(agent_id=agent.pk, override_capacity=True)
                        if operation == "assign"
                        else Target(department_id=agent.departments.get().pk)
                    )
                    assign_chat(chat_id=chat.pk, target=target, by=sam)
                elif operation == "offline":
                    assignment.agent_became_unavailable(user=agent)
                elif operation == "online":
                    make_online(agent, capacity=1 + n % 3)
                    assignment.agent_became_available(user=agent)
                elif operation == "fold":
                    counts.compact()
            except DeskError:
                pass  # refused (closed already, nobody available...): nothing changed
            assert kept_keys() == direct_keys(), (operation, n, who)
        assert_exact(people)
        transaction.set_rollback(True)  # the next history starts from an empty desk


# --- At once ---------------------------------------------------------------------------------


def _in_threads(jobs: list[Callable[[], Any]], threads: int) -> list[BaseException]:
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            for job in jobs[index::threads]:
                job()
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in pool)
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(300)
def test_closes_at_once_while_the_worker_folds_leave_exact_counts(sandbox, sales):
    """Forty chats closed by eight threads while a ninth keeps folding the rows: no change
    lost or counted twice (PostgreSQL's row versions; SQLite's writers take turns)."""
    supervisor = create_user(username="sup", password="correct-horse-battery", role="supervisor")
    agents = [
        make_online(
            create_user(
                username=f"agent{i}", password="correct-horse-battery", department_ids=[sales.pk]
            ),
            capacity=10,
        )
        for i in range(4)
    ]
    for n in range(40):
        write_in(sandbox, phone(n))
    assert Chat.objects.filter(status="open", agent__isnull=False).count() == 40
    counts.compact()
    done = threading.Event()
    folds: list[int] = []
    fold_errors: list[BaseException] = []

    def fold_until_done() -> None:
        try:
            while not done.is_set():
                folds.append(counts.compact())
        except BaseException as exc:
            fold_errors.append(exc)
        finally:
            connection.close()

    def close(chat_id: int) -> None:
        close_chat(chat_id=chat_id, by=supervisor)

    ids = list(Chat.objects.values_list("pk", flat=True))
    folder = threading.Thread(target=fold_until_done)
    folder.start()
    try:
        errors = _in_threads([partial(close, chat_id) for chat_id in ids], threads=8)
    finally:
        done.set()
        folder.join(timeout=120)
    assert not errors, errors[:3]
    assert not fold_errors, fold_errors
    assert not folder.is_alive()
    assert Chat.objects.filter(status="closed").count() == 40
    assert_exact([*agents, supervisor])
    assert queries.tab_totals() == {"chats": 0, "closed": 40, "tickets": 0}


def _fold_in_thread(fold: Callable[[], None]) -> None:
    try:
        fold()
    finally:
        connection.close()
