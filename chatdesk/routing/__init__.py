"""Departments, business hours, and the rules that assign and transfer chats."""
