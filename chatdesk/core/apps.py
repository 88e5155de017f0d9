from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "chatdesk.core"
    label = "core"
    verbose_name = "Chat Desk core"
