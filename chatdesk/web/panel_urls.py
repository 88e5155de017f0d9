"""The chat panel's routes: one chat's transcript, composer, comments and timeline, shown
inside the agent workspace and the supervisor console alike."""

from django.urls import path

from chatdesk.web import panel_views

urlpatterns = [
    path("chats/<int:chat_id>/panel/", panel_views.chat_panel, name="chat-panel"),
]
