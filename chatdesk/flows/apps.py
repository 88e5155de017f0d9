from django.apps import AppConfig


class FlowsConfig(AppConfig):
    """No models: installed so its periodic sweeps (``sweeps.py``) are found."""

    name = "chatdesk.flows"
    label = "flows"
    verbose_name = "Flows"
