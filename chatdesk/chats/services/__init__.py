"""Changes to contacts, chats and messages, one module per sub-topic:
``contacts`` (who writes in), ``inbound`` (what providers deliver to us), ``outbound``
(what the desk sends, and its delivery), ``timeline`` (the chat's audit events)."""
