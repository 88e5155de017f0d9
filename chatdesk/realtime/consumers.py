"""The live-events WebSocket, ``/ws/events``."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

# Close codes in the 4000 range are ours: 4401 = not signed in.
CLOSE_UNAUTHENTICATED = 4401


class EventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.accept()
