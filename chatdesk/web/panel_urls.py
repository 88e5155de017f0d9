"""The chat panel's routes: one chat's transcript, composer, comments and timeline, shown
inside the agent workspace and the supervisor console alike; a page of its own for a
chat (a permalink); and the notifications bell of the top bar."""

from django.urls import path

from chatdesk.web import bell_views, panel_views

urlpatterns = [
    path("chats/<int:chat_id>/", panel_views.chat_page, name="chat-page"),
    path("chats/<int:chat_id>/panel/", panel_views.chat_panel, name="chat-panel"),
    path(
        "chats/<int:chat_id>/panel/transcript/",
        panel_views.chat_transcript,
        name="chat-panel-transcript",
    ),
    path(
        "chats/<int:chat_id>/panel/composer/",
        panel_views.chat_composer,
        name="chat-panel-composer",
    ),
    path("chats/<int:chat_id>/panel/send/", panel_views.send_message, name="chat-panel-send"),
    path(
        "chats/<int:chat_id>/panel/messages/<int:message_id>/retry/",
        panel_views.retry_message,
        name="chat-panel-retry",
    ),
    path("chats/<int:chat_id>/panel/close/", panel_views.close_chat, name="chat-panel-close"),
    path("chats/<int:chat_id>/panel/reopen/", panel_views.reopen_chat, name="chat-panel-reopen"),
    path(
        "chats/<int:chat_id>/panel/comments/",
        panel_views.chat_comments,
        name="chat-panel-comments",
    ),
    path(
        "chats/<int:chat_id>/panel/mentionable/",
        panel_views.mentionable,
        name="chat-panel-mentionable",
    ),
    path("notifications/bell/", bell_views.notification_bell, name="notification-bell"),
    path(
        "notifications/read-all/",
        bell_views.notifications_read_all,
        name="notifications-read-all",
    ),
    path(
        "notifications/<int:notification_id>/read/",
        bell_views.notification_read,
        name="notification-read",
    ),
]
