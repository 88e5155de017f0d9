"""The command line, end to end: ``chatdesk`` run in other processes."""
