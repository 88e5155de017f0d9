"""Contacts, chats and tickets, messages, comments, notifications and the chat timeline."""
