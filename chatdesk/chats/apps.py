from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "chatdesk.chats"
    label = "chats"
    verbose_name = "Chats and tickets"
