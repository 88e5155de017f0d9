from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "chatdesk.ops"
    label = "ops"
    verbose_name = "Chat Desk operations"
