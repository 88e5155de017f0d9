"""Pages (the paths people bookmark are in the public contract)."""

from django.urls import path

from chatdesk.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("agent/", views.agent_home, name="agent-home"),
    path("supervisor/", views.supervisor_home, name="supervisor-home"),
]
