"""`MqttLink`: one connection to the MQTT broker, publishing QoS 1 messages in order.

`publish_in_order` hands every message to the client in the given order (the
client keeps that order on the wire, and an MQTT broker keeps it per topic),
lets up to `max_inflight` of them await their PUBACK at once, and returns when
all are acknowledged. When the connection drops or an acknowledgement does not
come within `ack_timeout` seconds it raises `BrokerUnavailable`, whose `acked`
says how many messages from the start were acknowledged for certain; the link
is then finished and a new one must be opened. Driver errors never leave this
module: they become `BrokerUnavailable`.

Sessions are clean: nothing survives a reconnect inside the client, so a
message is sent again only because its outbox row is still unpublished.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import aiomqtt

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
_NO_LIMIT = 1 << 30


class BrokerUnavailable(Exception):
    """The broker cannot be reached or stopped acknowledging; `acked` messages got through."""

    def __init__(self, reason: str, acked: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.acked = acked


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is; `str()` never shows the credentials."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """`mqtt://[user[:password]@]host[:port]` or `mqtts://…` (TLS); raises ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("a broker URL looks like mqtt://host:1883 or mqtts://host:8883")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("a broker URL has no path, query or fragment")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return BrokerAddress(parts.hostname, port, parts.scheme == "mqtts", username, password)


def tls_context(ca_file: str, cert_file: str | None = None,
                key_file: str | None = None) -> ssl.SSLContext:
    """Client TLS context: TLS 1.2+, the broker verified against `ca_file` (and its name)."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file is not None:
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


class MqttLink:
    """An open broker connection (`async with MqttLink(...) as link`)."""

    def __init__(self, address: BrokerAddress, *, client_id: str,
                 tls: ssl.SSLContext | None = None, keepalive: int = 30,
                 ack_timeout: float = 10.0, max_inflight: int = 100) -> None:
        if address.tls and tls is None:
            raise ValueError("an mqtts:// broker needs a TLS context")
        self.address = address
        self.client_id = client_id
        self.ack_timeout = ack_timeout
        self._client = aiomqtt.Client(
            address.host, address.port, identifier=client_id, clean_session=True,
            username=address.username, password=address.password,
            tls_context=tls if address.tls else None, keepalive=keepalive,
            timeout=ack_timeout, max_inflight_messages=max_inflight,
        )
        self._client.pending_calls_threshold = _NO_LIMIT  # many PUBACKs pending is normal here
        self._watcher: asyncio.Task[str] | None = None

    async def __aenter__(self) -> Self:
        attempt = asyncio.ensure_future(self._client.__aenter__())
        try:
            await asyncio.shield(attempt)
        except asyncio.CancelledError:
            # Let the attempt end, then close what it opened: no socket is left behind.
            with contextlib.suppress(Exception):
                await attempt
                await self._client.__aexit__(None, None, None)
            raise
        except (aiomqtt.MqttError, OSError) as exc:
            raise BrokerUnavailable(f"cannot connect: {exc}") from None
        self._watcher = asyncio.ensure_future(self._watch())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        with contextlib.suppress(aiomqtt.MqttError, OSError):
            await self._client.__aexit__(None, None, None)

    async def _watch(self) -> str:
        """Ends when the connection is lost (we subscribe to nothing), with the reason."""
        try:
            async for _ in self._client.messages:
                pass
        except aiomqtt.MqttError as exc:
            cause = exc.__cause__
            return f"connection lost: {cause or exc}"
        return "connection closed"

    @property
    def connected(self) -> bool:
        return self._watcher is not None and not self._watcher.done()

    @property
    def lost_reason(self) -> str | None:
        """Why the connection ended, once it has."""
        if self._watcher is None or not self._watcher.done() or self._watcher.cancelled():
            return None
        return self._watcher.result()

    async def publish_in_order(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """Publish (topic, payload) pairs at QoS 1 and wait for every PUBACK.

        Raises `BrokerUnavailable` with `acked` = the length of the acknowledged prefix.
        """
        if self._watcher is None or self._watcher.done():
            raise BrokerUnavailable("not connected")
        # Tasks start in creation order, and each hands its message to the client before
        # its first await: the messages leave in the given order.
        tasks = [asyncio.ensure_future(self._client.publish(topic, payload, qos=1,
                                                            timeout=self.ack_timeout))
                 for topic, payload in messages]
        reason: str | None = None
        watcher: asyncio.Future[Any] = self._watcher
        try:
            pending: set[asyncio.Future[Any]] = set(tasks)
            while pending and reason is None:
                done, pending = await asyncio.wait(pending | {watcher},
                                                   return_when=asyncio.FIRST_COMPLETED)
                pending.discard(watcher)
                if watcher in done:
                    reason = str(watcher.result())
                for task in done:
                    if task is not watcher and task.exception() is not None:
                        reason = f"publish failed: {task.exception()}"
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        acked = 0
        for task in tasks:
            if task.cancelled() or task.exception() is not None:
                break
            acked += 1
        if acked < len(tasks):
            raise BrokerUnavailable(reason or "publish not acknowledged", acked)
