"""Channels (our numbers on each provider), WhatsApp templates, webhooks and outbound sends."""
