"""A Receipt means committed: it survives SIGKILL, and a resend is a duplicate, not a new row."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from gateway.client import UamsClient, parse_reply
from tests.builders import declaration
from tests.conftest import client_context
from tests.processes import GatewayProcess, gateway_environment

pytestmark = pytest.mark.slow

N = 200


async def _send_all(port: int, pki_dir: Path, messages: list[bytes]) -> list:
    client = await UamsClient.connect("127.0.0.1", port, client_context(pki_dir, "BRK-0001"),
                                      server_hostname="localhost")
    try:
        replies = await asyncio.gather(*(client.request(m) for m in messages))
    finally:
        await client.close()
    return [parse_reply(r) for r in replies]


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def test_receipts_survive_sigkill_and_resends_are_duplicates(tmp_path: Path,
                                                                    pki_dir: Path) -> None:
    db = tmp_path / "durable.db"
    env = gateway_environment(pki_dir, f"sqlite:///{db}")
    messages = [declaration(lrn=f"DUR-{i}", mid=f"dur-{i}") for i in range(N)]

    first = GatewayProcess(tmp_path, env)
    try:
        replies = await _send_all(first.port, pki_dir, messages)
    finally:
        first.kill()
    assert [r.message_type for r in replies] == ["Receipt"] * N
    references = [r.reference for r in replies]
    assert len(set(references)) == N

    assert _count(db, "declarations") == N, "every Receipt was durable before it was sent"
    assert _count(db, "messages") == N

    second = GatewayProcess(tmp_path, env)
    try:
        again = await _send_all(second.port, pki_dir, messages)
    finally:
        assert second.terminate() == 0
    assert all(r.message_type == "Receipt" and r.duplicate for r in again)
    assert [r.reference for r in again] == references
    assert _count(db, "declarations") == N, "no new rows for duplicates"
    assert _count(db, "messages") == N


async def test_sigterm_finishes_in_flight_requests_and_exits_zero(tmp_path: Path,
                                                                  pki_dir: Path) -> None:
    db = tmp_path / "graceful.db"
    proc = GatewayProcess(tmp_path, gateway_environment(pki_dir, f"sqlite:///{db}"))
    client = await UamsClient.connect("127.0.0.1", proc.port, client_context(pki_dir, "BRK-0001"),
                                      server_hostname="localhost")
    try:
        pending = [asyncio.ensure_future(client.request(declaration(lrn=f"TERM-{i}")))
                   for i in range(50)]
        await asyncio.sleep(0)  # the frames are on their way
        await asyncio.sleep(0.05)
        status = await asyncio.to_thread(proc.terminate)
        results = await asyncio.gather(*pending, return_exceptions=True)
    finally:
        await client.close()
    assert status == 0
    answered = [parse_reply(r) for r in results if isinstance(r, bytes)]
    assert answered, "requests that reached the gateway were answered before it closed"
    assert all(r.message_type == "Receipt" for r in answered)
    assert _count(db, "declarations") == len(answered)
