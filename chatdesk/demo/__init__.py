"""Demo data: a small desk with people, channels, hours, templates and sample chats,
written through the same services as the API."""
