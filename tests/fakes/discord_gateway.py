"""The fake's gateway: a websocket speaking Discord's gateway protocol (v10, JSON encoding).

Modelled: HELLO; HEARTBEAT -> HEARTBEAT_ACK; IDENTIFY -> READY then one GUILD_CREATE per guild
(close 4004 on a wrong token, 4005 on a second IDENTIFY, 4014 on privileged intents that are not
allowed); RESUME -> the missed events replayed, then RESUMED (INVALID_SESSION false for an unknown
session); REQUEST_GUILD_MEMBERS -> one GUILD_MEMBERS_CHUNK; dispatches (MESSAGE_CREATE,
MESSAGE_UPDATE, THREAD_CREATE, INTERACTION_CREATE) filtered by the GUILDS and GUILD_MESSAGES
intents. With `compress=zlib-stream` in the URL, every frame is a binary piece of one zlib stream
ending in a Z_SYNC_FLUSH, as discord.py expects; `zstd-stream` (asked for when the zstandard
package is installed) is answered with uncompressed text frames, which discord.py also reads.
Not modelled: ETF encoding, payload compression in IDENTIFY, gateway rate limits (120 sends a
minute), heartbeat deadlines on the server side, sharding beyond one shard, presence and voice,
the MESSAGE_CONTENT intent (all messages come from the bot itself).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import WSMsgType, web

from tests.fakes.discord_rest import APPLICATION_FLAGS
from tests.fakes.discord_state import DiscordState

OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION = 6, 7, 8, 9
OP_HELLO, OP_HEARTBEAT_ACK = 10, 11

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)
EVENT_INTENTS = {"MESSAGE_CREATE": INTENT_GUILD_MESSAGES, "MESSAGE_UPDATE": INTENT_GUILD_MESSAGES,
                 "THREAD_CREATE": INTENT_GUILDS, "GUILD_CREATE": INTENT_GUILDS}


class Connection:
    """One websocket; frames go out in order through a queue and a writer task."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compressor = zlib.compressobj() if compress == "zlib-stream" else None
        self.session: Session | None = None
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.writer = asyncio.create_task(self._write())

    def send(self, frame: dict[str, Any]) -> None:
        self.outbox.put_nowait(json.dumps(frame))

    async def _write(self) -> None:
        while True:
            text = await self.outbox.get()
            if self.compressor is None:
                await self.ws.send_str(text)
            else:
                data = self.compressor.compress(text.encode()) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)

    async def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued went out."""
        while not self.outbox.empty() and not self.ws.closed:
            await asyncio.sleep(0.01)
        self.writer.cancel()
        await self.ws.close(code=code, message=reason.encode())


@dataclass
class Session:
    """A gateway session: it outlives its connection, so it can be resumed."""

    id: str
    intents: int
    shard: list[int]
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    connection: Connection | None = None

    def send(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        frame = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.events.append(frame)
        if self.connection is not None:
            self.connection.send(frame)


class Gateway:
    def __init__(self, state: DiscordState, heartbeat_interval_ms: int, allowed_intents: int | None,
                 on_change: Callable[[], None]) -> None:
        self.state = state
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.allowed_intents = allowed_intents
        self.on_change = on_change
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        self.connection_urls: list[str] = []
        self.identify_payloads: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        self.heartbeats = 0

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to every session whose intents ask for it (connected or waiting to resume)."""
        needed = EVENT_INTENTS.get(event, 0)
        for session in self.sessions.values():
            if session.intents & needed == needed:
                session.send(event, data)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        connection = Connection(ws, request.query.get("compress"))
        self.connections.append(connection)
        self.connection_urls.append(str(request.rel_url))
        connection.send({"op": OP_HELLO, "s": None, "t": None,
                         "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake-gateway"]}})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    await connection.close(4002, "Error while decoding payload.")
                    break
                await self._receive(connection, json.loads(msg.data))
                self.on_change()
        finally:
            connection.writer.cancel()
            self.connections.remove(connection)
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
            self.on_change()
        return ws

    async def _receive(self, connection: Connection, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == OP_HEARTBEAT:
            self.heartbeats += 1
            connection.send({"op": OP_HEARTBEAT_ACK, "s": None, "t": None, "d": None})
        elif op == OP_IDENTIFY:
            await self._identify(connection, data)
        elif op == OP_RESUME:
            await self._resume(connection, data)
        elif connection.session is None:
            await connection.close(4003, "Not authenticated.")
        elif op == OP_REQUEST_MEMBERS:
            self._members_chunk(connection.session, data)
        elif op == OP_PRESENCE:
            self.presence_updates.append(data)
        elif op != OP_VOICE:
            await connection.close(4001, "Unknown opcode.")

    async def _identify(self, connection: Connection, data: dict[str, Any]) -> None:
        self.identify_payloads.append(data)
        if connection.session is not None:
            await connection.close(4005, "Already authenticated.")
            return
        if data.get("token") != self.state.token:
            await connection.close(4004, "Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if self.allowed_intents is not None and intents & PRIVILEGED_INTENTS & ~self.allowed_intents:
            await connection.close(4014, "Disallowed intent(s).")
            return
        session = Session(secrets.token_hex(16), intents, data.get("shard") or [0, 1])
        self.sessions[session.id] = session
        connection.session, session.connection = session, connection
        session.send("READY", self._ready(session))
        for guild in self.state.guilds.values():
            threads = [t for t in self.state.threads.values() if t["guild_id"] == guild["id"]]
            session.send("GUILD_CREATE", {**guild, "threads": threads})

    def _ready(self, session: Session) -> dict[str, Any]:
        return {
            "v": 10,
            "user": {**self.state.bot, "verified": True, "mfa_enabled": False},
            "guilds": [{"id": guild_id, "unavailable": True} for guild_id in self.state.guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.state.gateway_url.replace("/gateway", "/gateway-resume"),
            "shard": session.shard,
            "application": {"id": self.state.application_id, "flags": APPLICATION_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake-loopback"],
            "user_settings": {},
            "_trace": ["fake-gateway"],
        }

    async def _resume(self, connection: Connection, data: dict[str, Any]) -> None:
        self.resumes.append(data)
        session = self.sessions.get(data.get("session_id", ""))
        if session is None or data.get("token") != self.state.token:
            connection.send({"op": OP_INVALID_SESSION, "s": None, "t": None, "d": False})
            return
        if session.connection is not None:
            await session.connection.close(4000, "Session resumed elsewhere.")
        connection.session, session.connection = session, connection
        seen = int(data.get("seq") or 0)
        for frame in session.events:
            if frame["s"] > seen:
                connection.send(frame)
        session.send("RESUMED", {"_trace": ["fake-gateway"]})

    def _members_chunk(self, session: Session, data: dict[str, Any]) -> None:
        guild = self.state.guilds.get(str(data.get("guild_id")))
        if guild is None:
            return
        chunk = {"guild_id": guild["id"], "members": guild["members"], "chunk_index": 0, "chunk_count": 1,
                 "not_found": [], "presences": []}
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        session.send("GUILD_MEMBERS_CHUNK", chunk)

    async def drop(self, code: int, resumable: bool) -> None:
        """Close every connection; without `resumable` the sessions are forgotten too."""
        for connection in list(self.connections):
            if not resumable and connection.session is not None:
                self.sessions.pop(connection.session.id, None)
            await connection.close(code, "Dropped by the fake.")

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client closes and resumes by itself."""
        for connection in self.connections:
            connection.send({"op": OP_RECONNECT, "s": None, "t": None, "d": None})

    async def close(self) -> None:
        for connection in list(self.connections):
            await connection.close(1001, "Fake stopping.")
