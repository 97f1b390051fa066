"""Store outage: PostgreSQL stops under load and comes back.

A throwaway cluster (initdb in a temp folder, its own port) serves an in-process
gateway while clients send declarations without pause. The server is stopped
(`pg_ctl stop -m fast`: sessions terminated) and started again. Every reply is a
Receipt or a retryable UNAVAILABLE; every Receipt is in the database; the
gateway serves again without a restart; and each message that got UNAVAILABLE
is accepted when sent again (as a duplicate, if its commit had in fact landed
just before the connection died).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psycopg
import pytest

from adapters import migrations
from adapters.store import open_store
from gateway.app import start_gateway
from gateway.client import Reply, UamsClient, parse_reply
from tests.builders import declaration
from tests.conftest import client_context, make_config
from tests.store.cluster import ThrowawayCluster

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CLIENTS = 6
Sent = tuple[str, bytes, Reply, float]


async def load(client: UamsClient, tag: str, sent: list[Sent], stop: asyncio.Event) -> None:
    n = 0
    while not stop.is_set():
        mid = f"{tag}-{n:05d}"
        n += 1
        payload = declaration(mid=mid, lrn=f"LRN-{mid}")
        reply = parse_reply(await client.request(payload))
        sent.append((mid, payload, reply, time.monotonic()))
        if reply.code == "UNAVAILABLE":
            await asyncio.sleep(0.01)  # a client backing off, not spinning


def receipts_since(sent: list[Sent], since: float) -> int:
    return sum(1 for _, _, reply, at in sent if at > since and reply.is_receipt)


async def test_outage_under_load_gives_unavailable_and_recovers(pki_dir: Path,
                                                                tmp_path: Path) -> None:
    with ThrowawayCluster() as cluster:
        store = open_store(cluster.url)
        try:
            migrations.upgrade(store)
        finally:
            store.close()
        config = make_config(pki_dir, tmp_path, STORE_URL=cluster.url,
                             STORE_BATCH_MAX_WAIT_MS="1")
        gateway = await start_gateway(config)
        assert gateway.tls_port is not None
        clients = [await UamsClient.connect("127.0.0.1", gateway.tls_port,
                                            client_context(pki_dir, "BRK-0001"),
                                            server_hostname="localhost")
                   for _ in range(CLIENTS)]
        sent: list[Sent] = []
        stop = asyncio.Event()
        try:
            tasks = [asyncio.create_task(load(c, f"c{i}", sent, stop))
                     for i, c in enumerate(clients)]
            await until(lambda: receipts_since(sent, 0) >= 50)
            await asyncio.to_thread(cluster.stop, "fast")
            down_at = time.monotonic()
            await until(lambda: sum(1 for s in sent if s[3] > down_at
                                    and s[2].code == "UNAVAILABLE") >= 20)
            await asyncio.to_thread(cluster.start)
            up_at = time.monotonic()
            await until(lambda: receipts_since(sent, up_at) >= 50)  # no gateway restart
            stop.set()
            await asyncio.gather(*tasks)

            kinds = {(r.message_type, r.code, r.retryable) for _, _, r, _ in sent}
            assert kinds <= {("Receipt", None, False), ("Rejection", "UNAVAILABLE", True)}, kinds
            unavailable = [(mid, payload) for mid, payload, r, _ in sent
                           if r.code == "UNAVAILABLE"]
            receipts = {mid: r.reference for mid, _, r, _ in sent if r.is_receipt}
            assert unavailable and receipts

            with psycopg.connect(cluster.url) as conn:
                stored = dict(conn.execute(
                    "SELECT message_id, reference FROM messages WHERE sender_id = 'BRK-0001'"
                ).fetchall())
            missing = {mid for mid in receipts if stored.get(mid) != receipts[mid]}
            assert missing == set(), "a Receipt was sent for something not committed"

            client = clients[0]
            for mid, payload in unavailable:  # the senders retry
                reply = parse_reply(await client.request(payload))
                assert reply.is_receipt, (mid, reply.code)
                assert reply.duplicate == (mid in stored)
            references = [r for r in stored.values()]
            assert len(references) == len(set(references))
        finally:
            stop.set()
            for client in clients:
                await client.close()
            await gateway.stop()


async def until(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
