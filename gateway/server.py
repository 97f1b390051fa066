"""The listener: mutual TLS (and the optional loopback plaintext one), connection caps,
graceful shutdown. The only module that creates servers; each connection is a
`gateway.connection.UamsConnection`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import Counter
from dataclasses import dataclass, field

import structlog

from gateway.config import ServerSection
from gateway.connection import UamsConnection
from gateway.pipeline import Pipeline
from gateway.pki import peer_identity
from gateway.ratelimit import RateLimiter
from gateway.writer import GroupCommitWriter
from handlers.participants import Participant, ParticipantRegistry

log = structlog.get_logger("uams.server")


@dataclass
class Listener:
    server: asyncio.Server
    tls: bool

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])


@dataclass
class GatewayServer:
    settings: ServerSection
    pipeline: Pipeline
    writer: GroupCommitWriter
    registry: ParticipantRegistry
    ssl_context: ssl.SSLContext | None
    plaintext_participant: Participant | None = None
    listeners: list[Listener] = field(default_factory=list)
    connections: set[UamsConnection] = field(default_factory=set)
    per_participant: Counter[str] = field(default_factory=Counter)
    rate_limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.rate_limiter = RateLimiter(self.settings.rate_limit_per_second,
                                        self.settings.rate_limit_burst)

    # connections ----------------------------------------------------------------------------

    def identify(self, transport: asyncio.BaseTransport) -> Participant | None:
        """The participant of a TLS connection, from its verified client certificate."""
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return None
        common_name, der = peer_identity(ssl_object)
        if not der:
            return None
        return self.registry.for_certificate(common_name, der)

    def admit(self, conn: UamsConnection) -> bool:
        assert conn.participant is not None
        pid = conn.participant.id
        if (len(self.connections) >= self.settings.max_connections
                or self.per_participant[pid] >= self.settings.max_connections_per_participant):
            return False
        self.connections.add(conn)
        self.per_participant[pid] += 1
        return True

    def release(self, conn: UamsConnection) -> None:
        if conn in self.connections:
            self.connections.discard(conn)
            assert conn.participant is not None
            self.per_participant[conn.participant.id] -= 1

    # listening ------------------------------------------------------------------------------

    async def listen_tls(self, host: str, port: int, *, reuse_port: bool = False) -> Listener:
        assert self.ssl_context is not None
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: UamsConnection(self), host=host, port=port, ssl=self.ssl_context,
            ssl_handshake_timeout=self.settings.handshake_timeout_seconds,
            reuse_port=reuse_port or None, backlog=1024,
        )
        listener = Listener(server, tls=True)
        self.listeners.append(listener)
        log.info("listening", host=host, port=listener.port, tls=True)
        return listener

    async def listen_plaintext(self, host: str, port: int) -> Listener:
        assert self.plaintext_participant is not None
        participant = self.plaintext_participant
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: UamsConnection(self, plaintext_participant=participant),
            host=host, port=port, family=socket.AF_INET, backlog=1024,
        )
        listener = Listener(server, tls=False)
        self.listeners.append(listener)
        log.warning("listening", host=host, port=listener.port, tls=False,
                    participant=participant.id, note="development plaintext listener")
        return listener

    async def shutdown(self, grace_seconds: float) -> None:
        """Stop accepting, let in-flight requests finish and be answered, close everything."""
        for listener in self.listeners:
            listener.server.close()
        conns = list(self.connections)
        if conns:
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(c.finish() for c in conns), return_exceptions=True),
                    timeout=grace_seconds)
            except TimeoutError:
                log.warning("shutdown_grace_exceeded", open=len(self.connections))
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
        for listener in self.listeners:
            await listener.server.wait_closed()
        await self.writer.stop()
