"""How hard the fuzz tests push: about a hundred examples per property in ``make test``,
many more with ``CHATDESK_CHAOS_SCALE=full``.

Hypothesis keeps no example database here: every run draws fresh examples (a failure
prints the seed and the ``@reproduce_failure`` blob to replay it), and nothing is written
next to the code.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FULL = os.environ.get("CHATDESK_CHAOS_SCALE", "").strip().lower() == "full"

settings.register_profile(
    "chatdesk-fuzz",
    max_examples=100,
    deadline=None,  # a loaded 2-core machine must not turn slowness into a failure
    database=None,
    print_blob=True,
    # The database fixture is shared by the examples of one test on purpose: each
    # example compares row counts before and after itself, so earlier rows are fine.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
settings.register_profile(
    "chatdesk-fuzz-full", parent=settings.get_profile("chatdesk-fuzz"), max_examples=3000
)

FUZZ = settings.get_profile("chatdesk-fuzz-full" if FULL else "chatdesk-fuzz")
"""Decorate each property with ``@FUZZ`` (never load a profile globally: other packages'
tests may use Hypothesis with their own settings)."""
