"""Routing's rules are pure: facts in, a Placement out, no database."""

from __future__ import annotations

from chatdesk.accounts.models import User
from chatdesk.routing import rules
from chatdesk.routing.rules import LiveRoute, Placement, PlacementKind


def agent(pk: int) -> User:
    return User(pk=pk, username=f"agent{pk}")


def test_out_of_hours_wins_over_anyone_online() -> None:
    route = rules.live_route(within_hours=False, anyone_online=True)
    assert route == LiveRoute(False, "out_of_hours")
    assert rules.live_route(within_hours=True, anyone_online=False) == LiveRoute(
        False, "nobody_online"
    )
    assert rules.live_route(within_hours=True, anyone_online=True).possible


def test_a_placement_carries_the_reply_to_send() -> None:
    replies: dict[str, str] = {
        "queue_reply": "You are in the queue.",
        "out_of_hours_reply": "We are closed.",
        "nobody_available_reply": "Nobody is free yet.",
    }
    closed = LiveRoute(False, "out_of_hours")
    assert rules.place(route=closed, agent=None, reengaged_by=None, **replies) == Placement(
        PlacementKind.TICKET, reason="out_of_hours", reply="We are closed."
    )
    nobody = LiveRoute(False, "nobody_online")
    assert rules.place(route=nobody, agent=None, reengaged_by=None, **replies) == Placement(
        PlacementKind.TICKET, reason="nobody_online", reply="Nobody is free yet."
    )
    full = LiveRoute(True)
    assert rules.place(route=full, agent=None, reengaged_by=None, **replies) == Placement(
        PlacementKind.QUEUE, reply="You are in the queue."
    )
    alice = agent(1)
    assert rules.place(route=full, agent=alice, reengaged_by=None, **replies) == Placement(
        PlacementKind.AGENT, agent=alice
    )


def test_the_agent_who_re_engaged_the_contact_gets_the_reply_first() -> None:
    replies: dict[str, str] = {
        "queue_reply": "You are in the queue.",
        "out_of_hours_reply": "We are closed.",
        "nobody_available_reply": "Nobody is free yet.",
    }
    alice, bob = agent(1), agent(2)
    first = Placement(PlacementKind.AGENT, agent=bob, reason="reengagement_reply")
    # Before the best agent with room, before the queue, and out of hours too: the agent
    # who followed the contact up is at the desk and can take the chat now.
    assert rules.place(route=LiveRoute(True), agent=alice, reengaged_by=bob, **replies) == first
    assert rules.place(route=LiveRoute(True), agent=None, reengaged_by=bob, **replies) == first
    closed = LiveRoute(False, "out_of_hours")
    assert rules.place(route=closed, agent=None, reengaged_by=bob, **replies) == first


def test_the_preferred_agent_is_asked_for_only_when_there_is_a_choice() -> None:
    asked: list[bool] = []

    def prefer() -> int | None:
        asked.append(True)
        return 2

    assert rules.choose_agent([], prefer) is None
    only = agent(5)
    assert rules.choose_agent([only], prefer) is only
    assert asked == []
    first, preferred = agent(1), agent(2)
    assert rules.choose_agent([first, preferred], prefer) is preferred
    assert rules.choose_agent([first, agent(3)], prefer) is first  # not among them
    assert asked == [True, True]


def test_a_message_to_an_unassigned_ticket_starts_a_live_chat_only_when_one_can_be_served() -> None:
    served, not_served = LiveRoute(True), LiveRoute(False, "nobody_online")
    assert rules.starts_live_instead_of_ticket(ticket_unassigned=True, route=served)
    assert not rules.starts_live_instead_of_ticket(ticket_unassigned=True, route=not_served)
    assert not rules.starts_live_instead_of_ticket(ticket_unassigned=False, route=served)
