"""The agent workspace's routes."""

from django.urls import path

from chatdesk.web import agent_views

urlpatterns = [
    path("agent/", agent_views.agent_home, name="agent-home"),
    path("agent/lists/", agent_views.agent_lists, name="agent-lists"),
    path("agent/presence/", agent_views.agent_presence, name="agent-presence"),
    path("agent/tickets/accept/", agent_views.agent_accept, name="agent-accept"),
    path("agent/chats/<int:chat_id>/", agent_views.agent_chat_page, name="agent-chat"),
    path("agent/chats/<int:chat_id>/open/", agent_views.agent_chat_open, name="agent-chat-open"),
    path("agent/chats/<int:chat_id>/read/", agent_views.agent_chat_read, name="agent-chat-read"),
]
