"""Where apps meet: each flow composes the services of several apps (store a message,
then have routing place it, then reply; close a chat, then drain the queue). Interfaces
(webhooks, api, web, consumers, commands) call a flow or one app's service; apps never
call each other's services, and never a flow."""
