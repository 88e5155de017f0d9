"""Pages (the paths people bookmark are in the public contract) and the fragments that
keep them live."""

from django.urls import path

from chatdesk.web import simulator_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("agent/", views.agent_home, name="agent-home"),
    path("agent/lists/", views.agent_lists, name="agent-lists"),
    path("supervisor/", views.supervisor_home, name="supervisor-home"),
    path("supervisor/lists/", views.supervisor_lists, name="supervisor-lists"),
    path("simulator/", simulator_views.simulator_page, name="simulator"),
    path("simulator/identity/", simulator_views.simulator_identity, name="simulator-identity"),
    path("simulator/send/", simulator_views.simulator_send, name="simulator-send"),
    path(
        "simulator/conversation/",
        simulator_views.simulator_conversation,
        name="simulator-conversation",
    ),
]
