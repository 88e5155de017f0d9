"""The ``chatdesk`` command: Django's management commands with our settings.

``chatdesk run|serve|worker|migrate|createuser|token|demo`` are the contract's commands;
every other Django command (``shell``, ``dbshell``, ``check``…) works too.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatdesk.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "chatdesk"
    if len(args) > 1 and args[1] in ("serve", "worker"):
        # How this process holds its database connections (see chatdesk/config.py).
        os.environ["CHATDESK_PROCESS"] = args[1]
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
