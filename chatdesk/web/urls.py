"""Pages (the paths people bookmark are in the public contract) and the fragments that
keep them live: the agent workspace, the supervisor console and the chat panel they
share each keep their own routes."""

from django.urls import include, path

from chatdesk.web import simulator_views, time_zone_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/time-zone/", time_zone_views.time_zone_page, name="time-zone"),
    path("", include("chatdesk.web.agent_urls")),
    path("", include("chatdesk.web.supervisor_urls")),
    path("", include("chatdesk.web.panel_urls")),
    path("simulator/", simulator_views.simulator_page, name="simulator"),
    path("simulator/identity/", simulator_views.simulator_identity, name="simulator-identity"),
    path("simulator/send/", simulator_views.simulator_send, name="simulator-send"),
    path(
        "simulator/conversation/",
        simulator_views.simulator_conversation,
        name="simulator-conversation",
    ),
    path("simulator/receipts/", simulator_views.simulator_receipts, name="simulator-receipts"),
]
