from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "chatdesk.routing"
    label = "routing"
    verbose_name = "Routing"
