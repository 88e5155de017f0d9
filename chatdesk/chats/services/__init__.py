"""Changes to contacts, chats and messages, one module per sub-topic:
``contacts`` (who writes in), ``inbound`` (what providers deliver to us), ``outbound``
(what the desk sends), ``assignment`` (giving chats to agents and queues), ``lifecycle``
(close and reopen), ``comments``, ``notifications``, ``timeline`` (the chat's audit
events). Where a change needs another app too (routing, delivery), a flow composes them
(chatdesk.flows)."""
