"""Broker outage (SECURITY 31): status notifications wait in the outbox while the broker is
down and all arrive, in Seq order per recipient, once it is back.

A Mosquitto of this test (persistence on) is stopped in the middle of a burst of
declarations, more declarations are lodged while it is down, then it is started again on
the same port. The subscriber keeps a persistent session, as a participant should.
Duplicates are allowed only for notifications not yet published before the outage.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from adapters.mqtt import BrokerUnavailable, Subscription, parse_broker_url
from gateway.app import Gateway, start_gateway
from gateway.client import UamsClient, parse_reply
from gateway.publisher import topic_of
from tests.builders import declaration
from tests.conftest import client_context, make_config
from tests.test_mqtt_link import Mosquitto, free_port, needs_mosquitto, plain_broker_conf
from tests.test_pull import pull

pytestmark = [pytest.mark.mqtt, needs_mosquitto]

RECIPIENTS = ("BRK-0001", "PRT-0001", "TRD-0001")  # declarant, its partner, the consignee
_SEQ = re.compile(rb"<Seq>(\d+)</Seq>")


class Receiver:
    """A participant's subscriber that reconnects with its persistent session."""

    def __init__(self, port: int) -> None:
        self.address = parse_broker_url(f"mqtt://127.0.0.1:{port}")
        self.streams: dict[str, list[int]] = {topic_of(r): [] for r in RECIPIENTS}
        self.subscribed = asyncio.Event()
        self.reconnects = 0

    async def run(self) -> None:
        while True:
            try:
                async with Subscription(self.address, list(self.streams),
                                        client_id="t-outage-subscriber", persistent=True) as sub:
                    self.subscribed.set()
                    while True:
                        message = await sub.receive(timeout=60)
                        match = _SEQ.search(message.payload)
                        assert match is not None
                        self.streams[message.topic].append(int(match.group(1)))
            except BrokerUnavailable:
                self.reconnects += 1
                await asyncio.sleep(0.05)

    def has(self, expected: dict[str, list[int]]) -> bool:
        return all(set(expected[r]) <= set(self.streams[topic_of(r)]) for r in RECIPIENTS)


async def expected_seqs(gateway: Gateway, pki_dir: Path) -> dict[str, list[int]]:
    """Every notification issued so far, per recipient (a pull with AckUpTo 0 releases none)."""
    out = {}
    for pid in RECIPIENTS:
        assert gateway.tls_port is not None
        async with await UamsClient.connect("127.0.0.1", gateway.tls_port,
                                            client_context(pki_dir, pid),
                                            server_hostname="localhost") as client:
            out[pid] = (await pull(client, pid, most=500)).seqs
    return out


async def until(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_every_notification_arrives_in_order_after_a_broker_outage(
        pki_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    broker = Mosquitto(plain_broker_conf(tmp_path / "broker", port), port)
    broker.start()
    config = make_config(pki_dir, tmp_path, MQTT_URL=f"mqtt://127.0.0.1:{port}",
                         MQTT_POLL_INTERVAL_SECONDS="0.1", MQTT_BACKOFF_MAX_SECONDS="0.5",
                         MQTT_BATCH_SIZE="4")
    receiver = Receiver(port)
    receiving = asyncio.create_task(receiver.run())
    gateway = await start_gateway(config)
    publisher = gateway.publisher
    assert publisher is not None and gateway.tls_port is not None
    try:
        await asyncio.wait_for(receiver.subscribed.wait(), 10)
        async with await UamsClient.connect("127.0.0.1", gateway.tls_port,
                                            client_context(pki_dir, "BRK-0001"),
                                            server_hostname="localhost") as client:

            async def lodge(count: int) -> None:
                for _ in range(count):
                    reply = parse_reply(await client.request(declaration(tax_id="1234567890")))
                    assert reply.is_receipt, reply.text

            # Before the outage: published, acknowledged and marked.
            await lodge(3)
            before = await expected_seqs(gateway, pki_dir)
            await until(lambda: receiver.has(before))
            await until(lambda: publisher.state.published == sum(map(len, before.values())))

            # The broker goes down in the middle of a burst ...
            burst = asyncio.create_task(lodge(8))
            await until(lambda: publisher.state.published > sum(map(len, before.values())))
            broker.stop()
            await burst
            # ... and more status changes come while it is down: receipts as usual.
            await lodge(4)
            await until(lambda: not publisher.state.connected)
            assert publisher.state.last_error is not None
            waiting = await expected_seqs(gateway, pki_dir)

            broker.start()  # same port, same persistence folder
            await until(lambda: receiver.has(waiting), timeout=30)
            await until(lambda: publisher.state.connected)
    finally:
        await gateway.stop()
        receiving.cancel()
        await asyncio.gather(receiving, return_exceptions=True)
        broker.stop()

    duplicates = 0
    for pid in RECIPIENTS:
        got, issued = receiver.streams[topic_of(pid)], waiting[pid]
        assert sorted(set(got)) == issued == list(range(1, len(issued) + 1)), pid
        highest = 0
        for seq in got:  # in order: each new Seq is the next one; anything else a repeat
            if seq <= highest:
                assert seq > max(before[pid]), f"{pid}: {seq} published before the outage, again"
                duplicates += 1
            else:
                assert seq == highest + 1, f"{pid}: {seq} after {highest}: {got}"
                highest = seq
    total = sum(map(len, waiting.values()))
    print(f"outage: {total} notifications, {duplicates} duplicates across the outage, "
          f"subscriber reconnects {receiver.reconnects}")
