"""The REST API (/api/v1): django-ninja routers that call services and shape answers."""
