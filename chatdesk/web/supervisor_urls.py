"""The supervisor console's routes, and the assign dialog (which agents use too)."""

from django.urls import path

from chatdesk.web import supervisor_assign, supervisor_views

urlpatterns = [
    path("supervisor/", supervisor_views.supervisor_home, name="supervisor-home"),
    path(
        "supervisor/chats/<int:chat_id>/", supervisor_views.supervisor_chat, name="supervisor-chat"
    ),
    path("supervisor/lists/", supervisor_views.supervisor_lists, name="supervisor-lists"),
    path("supervisor/team/", supervisor_views.supervisor_team, name="supervisor-team"),
    path(
        "supervisor/tickets/action/",
        supervisor_views.ticket_action,
        name="supervisor-ticket-action",
    ),
    path(
        "supervisor/tickets/assign/",
        supervisor_assign.tickets_assign,
        name="supervisor-tickets-assign",
    ),
    path("chats/<int:chat_id>/assign/", supervisor_assign.chat_assign, name="chat-assign"),
]
