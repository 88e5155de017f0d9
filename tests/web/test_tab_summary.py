"""chats.queries: the supervisor's tabs counted per agent, each in one query."""

from __future__ import annotations

import pytest

from chatdesk.chats import queries
from chatdesk.chats.queries import AgentCount
from chatdesk.core.errors import BadInput


@pytest.fixture
def desk(make_chat, alice, bob, dave):
    make_chat("+27820000001", agent=alice)
    make_chat("+27820000002", agent=alice)
    make_chat("+27820000003", agent=bob)
    make_chat("+27820000004")  # waiting in the queue
    make_chat("+27820000005", agent=alice, state="closed")
    make_chat("+27820000006", agent=dave, state="closed")
    make_chat("+27820000007", state="unassigned")
    make_chat("+27820000008", agent=bob, state="assigned")
    make_chat("+27820000009", agent=bob, state="ticket_closed")


def test_chats_tab_counts_open_live_chats_per_agent(desk, alice, bob, django_assert_num_queries):
    with django_assert_num_queries(1):
        summary = queries.tab_summary("chats")
    assert summary.tab == "chats"
    assert summary.agents == [
        AgentCount(alice.pk, "Alice Agent", 2),
        AgentCount(bob.pk, "Bob Agent", 1),
    ]
    assert summary.unassigned == 1
    assert summary.total == 4


def test_closed_tab_counts_closed_live_chats(desk, alice, dave):
    summary = queries.tab_summary("closed")
    assert summary.agents == [
        AgentCount(alice.pk, "Alice Agent", 1),
        AgentCount(dave.pk, "Dave Support", 1),
    ]
    assert (summary.unassigned, summary.total) == (0, 2)


def test_tickets_tab_counts_every_ticket(desk, bob):
    summary = queries.tab_summary("tickets")
    assert summary.agents == [AgentCount(bob.pk, "Bob Agent", 2)]
    assert (summary.unassigned, summary.total) == (1, 3)


def test_tab_totals_in_one_query(desk, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert queries.tab_totals() == {"chats": 4, "closed": 2, "tickets": 3}


def test_an_empty_desk_counts_zero(db):
    summary = queries.tab_summary("tickets")
    assert (summary.total, summary.agents, summary.unassigned) == (0, [], 0)
    assert queries.tab_totals() == {"chats": 0, "closed": 0, "tickets": 0}


def test_the_name_falls_back_to_the_username(make_chat, alice):
    alice.display_name = ""
    alice.save()
    make_chat("+27820000001", agent=alice)
    assert queries.tab_summary("chats").agents[0].display_name == "alice"


def test_an_unknown_tab_is_bad_input(db):
    with pytest.raises(BadInput, match="Tab must be one of chats, closed, tickets"):
        queries.tab_summary("open")


def test_open_chats_of_an_agent(desk, bob):
    assert {c.contact.phone for c in queries.open_chats_of(bob)} == {
        "+27820000003",
        "+27820000008",
    }
