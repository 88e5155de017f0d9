"""Shared base pieces: errors, the clock, health checks, the command line's commands."""
