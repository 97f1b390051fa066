"""Several publishers on one store: each notification is published by exactly one of them
(in steady state), every recipient's stream stays in Seq order, nothing is missing.

PostgreSQL: two nodes claim streams with row locks and share the work. SQLite: one
process per database file publishes; the other stands by and takes over when it stops.
Both run against the machine's Mosquitto with recipient ids of this test only.
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.mqtt import Subscription, parse_broker_url
from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.store import Store, open_store
from gateway.config import MqttSection
from gateway.publisher import OutboxPublisher, topic_of
from tests.store.backends import pg_database
from tests.test_mqtt_link import MACHINE_BROKER

pytestmark = pytest.mark.mqtt

AT = "2026-12-03T10:15:00.000000Z"
_SEQ = re.compile(rb"<Seq>(\d+)</Seq>")
SETTINGS = MqttSection(url=MACHINE_BROKER, batch_size=7, poll_interval_seconds=0.05,
                       backoff_max_seconds=0.5, ack_timeout_seconds=5.0)


def add_notifications(store: Store, recipients: list[str]) -> None:
    """One committed status change notifying each of `recipients`."""
    session = store.open_session()
    try:
        session.begin()
        uow = SqlUnitOfWork(session)
        for r in recipients:
            uow.outbox.add(recipient_id=r, at=AT, reference="AZ-DEC-2026-0000001",
                           kind="DECLARATION", status="REGISTERED")
        session.commit()
    finally:
        session.close()


class Streams:
    """What a subscriber received, per recipient, in arrival order."""

    def __init__(self, recipients: list[str]) -> None:
        self.by_topic: dict[str, list[int]] = {topic_of(r): [] for r in recipients}

    async def collect(self, sub: Subscription, total: int, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while sum(map(len, self.by_topic.values())) < total:
                message = await sub.receive(timeout)
                match = _SEQ.search(message.payload)
                assert match is not None
                self.by_topic[message.topic].append(int(match.group(1)))

    async def quiet(self, sub: Subscription, seconds: float) -> None:
        """Nothing more arrives (no duplicate publishing)."""
        with pytest.raises(TimeoutError):
            message = await sub.receive(seconds)
            pytest.fail(f"unexpected extra message on {message.topic}")


async def feed(stores: list[Store], publishers: list[OutboxPublisher], recipients: list[str],
               transactions: int) -> int:
    """Status changes committed through every store in turn, nudging like the writer does."""
    rng = random.Random(7)
    total = 0
    for i in range(transactions):
        chosen = rng.sample(recipients, rng.randint(1, len(recipients)))
        await asyncio.to_thread(add_notifications, stores[i % len(stores)], chosen)
        total += len(chosen)
        for p in publishers:
            p.on_batch(len(chosen), 0.0)
        await asyncio.sleep(rng.uniform(0, 0.01))
    return total


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
def recipients() -> list[str]:
    tag = secrets.token_hex(4).upper()
    return [f"Q{tag}-{i}" for i in range(6)]


@pytest.fixture
def pg_stores() -> Iterator[list[Store]]:
    with pg_database() as url:
        stores = [open_store(url), open_store(url)]  # two nodes
        try:
            yield stores
        finally:
            for s in stores:
                s.close()


@pytest.mark.postgres
async def test_two_nodes_share_the_work_and_publish_each_row_once(
        pg_stores: list[Store], recipients: list[str]) -> None:
    publishers = [OutboxPublisher(s, SETTINGS, gateway_id="SCC") for s in pg_stores]
    streams = Streams(recipients)
    address = parse_broker_url(MACHINE_BROKER)
    async with Subscription(address, list(streams.by_topic), client_id=recipients[0]) as sub:
        for p in publishers:
            p.start()
        try:
            total = await feed(pg_stores, publishers, recipients, transactions=60)
            await streams.collect(sub, total)
            await streams.quiet(sub, 0.5)
        finally:
            for p in publishers:
                await p.stop()
    for topic, seqs in streams.by_topic.items():
        assert seqs == list(range(1, len(seqs) + 1)), topic
    counts = [p.state.published for p in publishers]
    print(f"published per node: {counts} of {total}")
    assert sum(counts) == total
    assert all(c > 0 for c in counts), counts


async def test_sqlite_one_process_publishes_the_other_takes_over(
        tmp_path: Path, recipients: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    stores = [open_store(url), open_store(url)]
    stores[0].prepare()
    publishers = [OutboxPublisher(s, SETTINGS, gateway_id="SCC") for s in stores]
    streams = Streams(recipients)
    address = parse_broker_url(MACHINE_BROKER)
    try:
        async with Subscription(address, list(streams.by_topic),
                                client_id=recipients[0]) as sub:
            publishers[0].start()
            await asyncio.sleep(0.1)  # the first one takes the file lock
            publishers[1].start()
            first = await feed(stores, publishers, recipients, transactions=20)
            await streams.collect(sub, first)
            assert publishers[0].state.active and not publishers[1].state.active
            await until(lambda: publishers[0].state.published == first)  # marks follow PUBACKs
            assert publishers[1].state.published == 0

            await publishers[0].stop()  # the standby takes the lock within a poll interval
            second = await feed(stores, publishers[1:], recipients, transactions=10)
            await streams.collect(sub, first + second)
            await streams.quiet(sub, 0.3)
            assert publishers[1].state.active
            assert publishers[1].state.published == second
    finally:
        for p in publishers:
            await p.stop()
        for s in stores:
            s.close()
    for topic, seqs in streams.by_topic.items():
        assert seqs == list(range(1, len(seqs) + 1)), topic
