"""The adapter for a channel: one place that knows which module serves which kind."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from chatdesk.providers.adapters import sandbox, sms, whatsapp
from chatdesk.providers.base import Outbound, SendResult
from chatdesk.providers.models import Channel, ChannelKind


@dataclass(frozen=True)
class ChannelSender:
    """Sends through one channel with its own settings."""

    channel: Channel

    def send(self, client: httpx.Client, outbound: Outbound) -> SendResult:
        config, secrets = self.channel.config, self.channel.secrets
        if self.channel.kind == ChannelKind.WHATSAPP:
            return whatsapp.send(
                client,
                whatsapp.WhatsAppConfig(
                    phone_number_id=str(config.get("phone_number_id", "")),
                    access_token=str(secrets.get("access_token", "")),
                    graph_api_url=str(
                        config.get("graph_api_url") or whatsapp.DEFAULT_GRAPH_API_URL
                    ),
                ),
                outbound,
            )
        if self.channel.kind == ChannelKind.SMS:
            return sms.send(
                client,
                sms.SmsConfig(
                    account_sid=str(config.get("account_sid", "")),
                    auth_token=str(secrets.get("auth_token", "")),
                    from_number=str(config.get("from_number", "")),
                    api_url=str(config.get("api_url") or sms.DEFAULT_API_URL),
                ),
                outbound,
            )
        return sandbox.send(client, outbound)


def sender_for(channel: Channel) -> ChannelSender:
    return ChannelSender(channel)
