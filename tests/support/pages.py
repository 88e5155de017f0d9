"""Reading the server-rendered pages."""

from __future__ import annotations

import re


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)
