from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "chatdesk.providers"
    label = "providers"
    verbose_name = "Channels and templates"
