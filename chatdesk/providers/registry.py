"""The adapter for a channel: one place that knows which module serves which kind."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from chatdesk.providers.adapters import sandbox, sms, whatsapp
from chatdesk.providers.base import Outbound, SendResult
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.providers.queries import stored_secret

SANDBOX_CONNECTION = "The sandbox needs no connection: the simulator plays the customer."


@dataclass(frozen=True)
class ChannelSender:
    """Sends through one channel with its own settings."""

    channel: Channel

    def _config(self) -> dict[str, object]:
        # Stored settings that are not an object (written straight into the database)
        # read as empty: the provider refuses the send, with its reason, not a crash.
        return self.channel.config if isinstance(self.channel.config, dict) else {}

    def _whatsapp(self) -> whatsapp.WhatsAppConfig:
        config = self._config()
        return whatsapp.WhatsAppConfig(
            phone_number_id=str(config.get("phone_number_id", "")),
            access_token=stored_secret(self.channel, "access_token"),
            graph_api_url=str(config.get("graph_api_url") or whatsapp.DEFAULT_GRAPH_API_URL),
        )

    def _sms(self) -> sms.SmsConfig:
        config = self._config()
        return sms.SmsConfig(
            account_sid=str(config.get("account_sid", "")),
            auth_token=stored_secret(self.channel, "auth_token"),
            from_number=str(config.get("from_number", "")),
            api_url=str(config.get("api_url") or sms.DEFAULT_API_URL),
        )

    def send(self, client: httpx.Client, outbound: Outbound) -> SendResult:
        if self.channel.kind == ChannelKind.WHATSAPP:
            return whatsapp.send(client, self._whatsapp(), outbound)
        if self.channel.kind == ChannelKind.SMS:
            return sms.send(client, self._sms(), outbound)
        return sandbox.send(client, outbound)

    def check_connection(self, client: httpx.Client) -> str:
        """The provider's cheapest authenticated read with the stored settings: a
        sentence on success, ``ConnectionFailed`` with the reason otherwise."""
        if self.channel.kind == ChannelKind.WHATSAPP:
            return whatsapp.check_connection(client, self._whatsapp())
        if self.channel.kind == ChannelKind.SMS:
            return sms.check_connection(client, self._sms())
        return SANDBOX_CONNECTION


def sender_for(channel: Channel) -> ChannelSender:
    return ChannelSender(channel)
