"""Socket Mode for FakeSlack: apps.connections.open and the websocket it hands out.

apps.connections.open (with the app-level `xapp-` token) answers
`ws://127.0.0.1:<port>/socket?ticket=<t>`; a connection without a ticket the fake issued is
refused with 401. On connect the fake sends {"type": "hello", ...}. The test pushes envelopes
({"envelope_id", "type", "payload", "accepts_response_payload"}) to the newest connection and
waits for the client's acks ({"envelope_id", "payload"?}); it can also send {"type":
"disconnect"}, after which slack-sdk's client asks apps.connections.open for a new URL. Pings
from the client get pongs with the same data (aiohttp's autoping), which slack-sdk checks.

Not modelled: Slack's own pings, the periodic `refresh_requested` disconnects, retries of
unacknowledged envelopes (`retry_attempt`), the ten-connection limit, events_api envelopes'
authorizations.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.fakes.slack_api import FakeSlack


class SocketMode:
    def __init__(self, fake: FakeSlack) -> None:
        self._fake = fake
        self._tickets: set[str] = set()
        self.connections: list[web.WebSocketResponse] = []
        self.sent: list[dict[str, Any]] = []  # everything the fake sent, hellos included
        self.received: list[Any] = []  # every text frame from clients, parsed
        self.acks: dict[str, dict[str, Any]] = {}
        self._changed = asyncio.Condition()

    def open_connection(self, fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
        """The apps.connections.open handler."""
        ticket = secrets.token_hex(8)
        self._tickets.add(ticket)
        return {"url": f"ws://127.0.0.1:{fake.port}/socket?ticket={ticket}"}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        await self._wake()
        try:
            await self._send(ws, {"type": "hello", "num_connections": len(self.connections),
                                  "debug_info": {"host": "applink-fake-1", "build_number": 1,
                                                 "approximate_connection_time": 18060},
                                  "connection_info": {"app_id": self._fake.workspace.app_id}})
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    await self._receive(frame.data)
        finally:
            self.connections.remove(ws)
            await self._wake()
        return ws

    async def _receive(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = text
        self.received.append(message)
        if isinstance(message, dict) and "envelope_id" in message:
            self.acks[message["envelope_id"]] = message
            await self._wake()

    async def _wake(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _send(self, ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        self.sent.append(message)
        await ws.send_str(json.dumps(message))

    async def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Until at least `count` clients are connected."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.connections) >= count), timeout)

    async def send_envelope(self, envelope_type: str, payload: dict[str, Any], *,
                            accepts_response_payload: bool = True) -> str:
        """Push an envelope to the newest connection; returns its envelope_id."""
        if not self.connections:
            raise RuntimeError("no Socket Mode client is connected")
        envelope_id = str(uuid.uuid4())
        await self._send(self.connections[-1], {"envelope_id": envelope_id, "type": envelope_type,
                                                "payload": payload,
                                                "accepts_response_payload": accepts_response_payload})
        return envelope_id

    async def send_disconnect(self, reason: str = "warning") -> None:
        """Ask the newest client to reconnect, as Slack does before it closes a connection."""
        if not self.connections:
            raise RuntimeError("no Socket Mode client is connected")
        await self._send(self.connections[-1], {"type": "disconnect", "reason": reason,
                                                "debug_info": {"host": "applink-fake-1"}})

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The client's ack of an envelope ({"envelope_id", "payload"?}); TimeoutError if none."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: envelope_id in self.acks), timeout)
        return self.acks[envelope_id]

    async def close(self) -> None:
        for ws in list(self.connections):
            await ws.close(code=1001, message=b"server shutdown")
