"""The agent workspace's routes."""

from django.urls import path

from chatdesk.web import agent_views

urlpatterns = [
    path("agent/", agent_views.agent_home, name="agent-home"),
    path("agent/lists/", agent_views.agent_lists, name="agent-lists"),
]
