from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "chatdesk.realtime"
    label = "realtime"
    verbose_name = "Live events"

    def ready(self) -> None:
        # Imported once the models are loaded (the sequencer reads chats): Django's
        # place for start-up wiring. ``log`` sits below the sequencer and never imports
        # it; this is how an event written there gets numbered after the commit.
        from chatdesk.realtime import sequencer

        sequencer.install()
