from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "chatdesk.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        # Start-up wiring: the desk's zone forgets what it holds when business hours are
        # saved; the module reads the models, which load only now.
        from chatdesk.routing import desk_zone  # noqa: F401  (connects the receivers)
