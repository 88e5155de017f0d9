"""Channels (our numbers on each provider), WhatsApp templates, the provider adapters, and
delivering outbound messages (``delivery``, ``tasks``)."""
