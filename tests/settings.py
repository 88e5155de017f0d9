"""The suite's settings: production's, with a fast password hasher.

PBKDF2 at Django's default cost takes a large share of a second per hash, and every
persona the fixtures create hashes a password; MD5 keeps sign-ins real (the same code
paths, a real check) at a fraction of that. Processes the tests start (``chatdesk ...``)
keep the production settings, unless their environment adds
``tests.support.scratch.FAST_HASHER`` (the browser tests' server does).
"""

from __future__ import annotations

from chatdesk.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
