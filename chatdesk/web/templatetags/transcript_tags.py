"""Message text as the transcripts show it: the text escaped, its web addresses (and
e-mail addresses) made links that open in a new tab and tell the other site nothing."""

from __future__ import annotations

from django import template
from django.utils.html import Urlizer
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


class _NewTabUrlizer(Urlizer):
    # The other site gets neither this page (noopener) nor its address (noreferrer), and
    # a customer's link lends it no standing (nofollow).
    url_template = (
        '<a href="{href}"{attrs} target="_blank" rel="noopener noreferrer nofollow">{url}</a>'
    )


_urlize = _NewTabUrlizer()


@register.filter(is_safe=True, needs_autoescape=True)
def linkify(text: object, autoescape: bool = True) -> SafeString:
    """Escape ``text`` and make each address in it a link. The result is safe: every part
    that is not one of our ``<a>`` tags was escaped, the links' addresses too."""
    # Customer text is never trusted: escaped even where autoescape is off.
    del autoescape
    plain = "".join((str(text),))  # a plain str, so that nothing in it counts as safe
    return mark_safe(_urlize(plain, nofollow=False, autoescape=True))  # noqa: S308
