"""Live events: WebSocket consumers, group names, and publishing after commit."""
