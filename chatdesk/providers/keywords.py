"""Keywords in a contact's text, marked on the parsed message by the adapters as they
parse: a provider's opt-out and opt-in words (SMS: Twilio's reserved words, which the
carrier acts on too) and the channel's end keyword (``//end``), which closes the live
chat."""

from __future__ import annotations

from dataclasses import replace

from chatdesk.providers.base import InboundMessage


def keyword(text: str) -> str:
    """The text as a keyword is compared: trimmed, in capitals."""
    return text.strip().upper()


def is_end_keyword(text: str, end_keyword: str) -> bool:
    end = (end_keyword or "").strip().lower()
    return bool(end) and text.strip().lower() == end


def mark(
    message: InboundMessage,
    *,
    end_keyword: str,
    opt_out_words: frozenset[str] = frozenset(),
    opt_in_words: frozenset[str] = frozenset(),
) -> InboundMessage:
    """The message with its keywords marked. Only text carries keywords."""
    if message.content_type != "text":
        return message
    word = keyword(message.text)
    return replace(
        message,
        opt_out_word=word if word in opt_out_words else "",
        opt_in_word=word if word in opt_in_words else "",
        ends_chat=is_end_keyword(message.text, end_keyword),
    )
