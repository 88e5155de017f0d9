"""``{% when t %}``: a time as every page shows it (chatdesk.web.times), in a ``<time>``
element with the full date and the zone's name in its title; ``{% time_zone_name %}``:
the zone the page shows times in."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from chatdesk.web.times import shown_time

register = template.Library()


@register.simple_tag
def when(value: datetime | None, css_class: str = "") -> SafeString | str:
    if value is None:
        return ""
    shown = shown_time(value)
    if css_class:
        return format_html(
            '<time class="{}" datetime="{}" title="{}">{}</time>',
            css_class,
            shown.iso,
            shown.full,
            shown.text,
        )
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', shown.iso, shown.full, shown.text
    )


@register.simple_tag
def time_zone_name() -> str:
    return str(timezone.get_current_timezone())
