"""`Subscription`: the receiving end of status notifications, as a participant runs it.

Subscribes at QoS 1 and hands out messages one by one. With `persistent=True`
the broker keeps the subscription and queues messages while the subscriber is
away (a fixed `client_id`, clean session off): that is how a participant
receives, after reconnecting, what was published while it was offline.
`granted` tells, per topic, whether the broker accepted the subscription (an
ACL denial shows as refused, or as silence, depending on the broker).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import aiomqtt

from adapters.mqtt.link import BrokerAddress, BrokerUnavailable

_REFUSED = 0x80  # SUBACK return codes from 0x80 up are failures (MQTT 3.1.1 and 5)


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes


class Subscription:
    """An open subscription (`async with Subscription(...) as sub: await sub.receive(5)`)."""

    def __init__(self, address: BrokerAddress, topics: Sequence[str], *, client_id: str,
                 tls: ssl.SSLContext | None = None, persistent: bool = False,
                 timeout: float = 10.0) -> None:
        self.topics = list(topics)
        self.granted: list[bool] = []
        self._client = aiomqtt.Client(
            address.host, address.port, identifier=client_id, clean_session=not persistent,
            username=address.username, password=address.password,
            tls_context=tls if address.tls else None, timeout=timeout,
        )

    async def __aenter__(self) -> Self:
        try:
            await self._client.__aenter__()
        except (aiomqtt.MqttError, OSError) as exc:
            raise BrokerUnavailable(f"cannot connect: {exc}") from None
        try:
            for topic in self.topics:
                codes = await self._client.subscribe(topic, qos=1)
                self.granted.append(all(_code(c) < _REFUSED for c in codes))
        except aiomqtt.MqttError as exc:
            await self.__aexit__(None, None, None)
            raise BrokerUnavailable(f"cannot subscribe: {exc}") from None
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        with contextlib.suppress(aiomqtt.MqttError, OSError):
            await self._client.__aexit__(None, None, None)

    async def receive(self, timeout: float) -> Received:
        """The next message; `TimeoutError` when none comes in time, `BrokerUnavailable`
        when the connection is lost."""
        try:
            message = await asyncio.wait_for(anext(aiter(self._client.messages)), timeout)
        except aiomqtt.MqttError as exc:
            raise BrokerUnavailable(f"connection lost: {exc}") from None
        payload = message.payload
        if not isinstance(payload, bytes | bytearray):
            payload = str(payload).encode()
        return Received(str(message.topic), bytes(payload))


def _code(code: object) -> int:
    value = getattr(code, "value", code)
    return int(value) if isinstance(value, int) else _REFUSED
