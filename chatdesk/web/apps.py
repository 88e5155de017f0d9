from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "chatdesk.web"
    label = "web"
    verbose_name = "Web pages"

    def ready(self) -> None:
        from chatdesk.web import signals  # noqa: F401  (connects the receivers)
