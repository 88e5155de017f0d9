from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "chatdesk.api"
    label = "api"
    verbose_name = "REST API"
