"""Running the desk: processes, the command line's commands, health checks, the CSP and
log redaction."""
