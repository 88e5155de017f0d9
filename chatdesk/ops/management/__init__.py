"""The ``chatdesk`` command line: Django management commands."""
