"""``chatdesk run|serve|worker|createuser|token|demo`` (``migrate`` is Django's own)."""
