"""Shared base pieces every app may use: errors and the clock. Imports nothing of ours."""
