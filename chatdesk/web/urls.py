"""Pages."""

from django.urls import path

from chatdesk.web import views

urlpatterns = [
    path("", views.home, name="home"),
]
