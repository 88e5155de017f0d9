"""Time zones by IANA name, as this server's zone database has them. A stored name may be
one the server cannot load (written before names were checked, or straight into the
database): callers get None or :class:`UnknownTimeZone`, never the loader's own errors."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class UnknownTimeZone(ValueError):
    """A time zone name this server cannot load."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} is not a time zone this server knows")
        self.name = name


def zone_or_none(name: str) -> ZoneInfo | None:
    """The zone called ``name``, or None when there is none by that name here."""
    try:
        return ZoneInfo(name)
    # Not found; not a relative path ("", "../x", a NUL); a directory ("America"); a
    # file of the zone database that is not a zone ("zone.tab").
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone(name: str) -> ZoneInfo:
    """The zone called ``name``; :class:`UnknownTimeZone` when there is none here."""
    found = zone_or_none(name)
    if found is None:
        raise UnknownTimeZone(name)
    return found
