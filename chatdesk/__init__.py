"""Chat Desk: a customer-service desk for WhatsApp and SMS."""

__version__ = "0.1.0"
