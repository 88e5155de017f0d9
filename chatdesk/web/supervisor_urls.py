"""The supervisor console's routes."""

from django.urls import path

from chatdesk.web import supervisor_views

urlpatterns = [
    path("supervisor/", supervisor_views.supervisor_home, name="supervisor-home"),
    path("supervisor/lists/", supervisor_views.supervisor_lists, name="supervisor-lists"),
]
