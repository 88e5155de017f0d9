from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "chatdesk.accounts"
    label = "accounts"
    verbose_name = "Users"

    def ready(self) -> None:
        # Start-up wiring: the middleware imports the models, which load only now.
        from django.contrib.auth.signals import user_logged_in

        from chatdesk.accounts.middleware import signed_in

        user_logged_in.connect(signed_in, dispatch_uid="chatdesk.accounts.session_idle_clock")
