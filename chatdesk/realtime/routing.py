"""WebSocket URL routes."""

from django.urls import path

from chatdesk.realtime.consumers import LiveEventsConsumer

websocket_urlpatterns = [
    path("ws/events", LiveEventsConsumer.as_asgi()),
]
