"""Webhook URLs, as the contract names them."""

from django.urls import path

from chatdesk.webhooks import views as webhooks

urlpatterns = [
    path("whatsapp/<int:channel_id>", webhooks.whatsapp_webhook, name="whatsapp-webhook"),
    path("sms/<int:channel_id>", webhooks.sms_webhook, name="sms-webhook"),
    path("sms/<int:channel_id>/status", webhooks.sms_status_webhook, name="sms-status-webhook"),
]
