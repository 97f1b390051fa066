"""Several nodes on one database: two gateway processes, on two ports, share one PostgreSQL.

- the same message sent to both at the same moment is registered once: one sender
  gets the Receipt, the other the same Reference with `Duplicate=true`;
- registration numbers taken concurrently through both never collide;
- a status written through one node is read through the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gateway.client import UamsClient, parse_reply
from tests.builders import declaration, status_request
from tests.conftest import ROOT, client_context
from tests.processes import GatewayProcess, gateway_environment
from tests.store.backends import pg_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

EXAMPLES = ROOT / "examples" / "valid"


@pytest.fixture(scope="module")
def nodes(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[str, GatewayProcess, GatewayProcess]]:
    """Two gateway processes on one freshly migrated PostgreSQL database."""
    with pg_database() as url:
        workdir = tmp_path_factory.mktemp("nodes")
        env = gateway_environment(pki_dir, url, STORE_BATCH_MAX_WAIT_MS="5")
        first = GatewayProcess(workdir, env)
        try:
            second = GatewayProcess(workdir, env)
        except BaseException:
            first.kill()
            raise
        try:
            assert first.port != second.port
            yield url, first, second
        finally:
            codes = (first.terminate(), second.terminate())
        assert codes == (0, 0)


async def connect(pki_dir: Path, port: int, participant: str = "BRK-0001") -> UamsClient:
    return await UamsClient.connect("127.0.0.1", port, client_context(pki_dir, participant),
                                    server_hostname="localhost")


async def test_same_message_to_both_nodes_is_registered_once(
        nodes: tuple[str, GatewayProcess, GatewayProcess], pki_dir: Path) -> None:
    url, first, second = nodes
    a, b = await connect(pki_dir, first.port), await connect(pki_dir, second.port)
    try:
        for n in range(30):
            payload = declaration(mid=f"twice-{n}", lrn=f"LRN-TWICE-{n}")
            replies = [parse_reply(r) for r in
                       await asyncio.gather(a.request(payload), b.request(payload))]
            assert [r.message_type for r in replies] == ["Receipt", "Receipt"], \
                [(r.code, r.details) for r in replies]
            assert sorted(r.duplicate for r in replies) == [False, True]
            assert replies[0].reference == replies[1].reference
            assert replies[0].status == replies[1].status
    finally:
        await a.close()
        await b.close()
    with psycopg.connect(url) as conn:
        (count,) = conn.execute("SELECT count(*) FROM messages "
                                "WHERE message_id LIKE 'twice-%'").fetchone()  # type: ignore[misc]
        (decls,) = conn.execute("SELECT count(*) FROM declarations "
                                "WHERE lrn LIKE 'LRN-TWICE-%'").fetchone()  # type: ignore[misc]
    assert (count, decls) == (30, 30)


async def test_numbers_taken_through_both_nodes_never_collide(
        nodes: tuple[str, GatewayProcess, GatewayProcess], pki_dir: Path) -> None:
    _, first, second = nodes
    clients = [await connect(pki_dir, port) for port in (first.port, second.port) * 3]

    async def lodge(index: int, client: UamsClient) -> list[str]:
        replies = await asyncio.gather(*(
            client.request(declaration(mid=f"num-{index}-{n}", lrn=f"LRN-NUM-{index}-{n}"))
            for n in range(40)))
        parsed = [parse_reply(r) for r in replies]
        assert all(r.is_receipt and not r.duplicate for r in parsed), \
            {(r.code, r.reason) for r in parsed if not r.is_receipt}
        return [str(r.reference) for r in parsed]

    try:
        numbers = [n for batch in await asyncio.gather(
            *(lodge(i, c) for i, c in enumerate(clients))) for n in batch]
    finally:
        for client in clients:
            await client.close()
    assert len(numbers) == 240
    assert len(set(numbers)) == 240
    assert all(n.startswith("AZ-DEC-") for n in numbers)


async def test_status_written_through_one_node_is_read_through_the_other(
        nodes: tuple[str, GatewayProcess, GatewayProcess], pki_dir: Path) -> None:
    _, first, second = nodes
    broker_a = await connect(pki_dir, first.port)
    broker_b = await connect(pki_dir, second.port)
    ministry_a = await connect(pki_dir, first.port, "MOA-0001")
    ministry_b = await connect(pki_dir, second.port, "MOA-0001")
    try:
        lodged = parse_reply(await broker_a.request(declaration(mid="cross-1", lrn="LRN-CROSS")))
        assert lodged.is_receipt
        seen = parse_reply(await broker_b.request(status_request(
            sender="BRK-0001", reference=lodged.reference)))
        assert seen.message_type == "StatusResponse"
        assert _text(seen, "Status") == lodged.status

        issued = parse_reply(await ministry_a.request(
            (EXAMPLES / "03-certificate-veterinary.MOA-0001.xml").read_bytes()))
        assert (issued.message_type, issued.status) == ("Receipt", "VALID")
        revoked = parse_reply(await ministry_b.request(
            (EXAMPLES / "04-certificate-revocation.MOA-0001.xml").read_bytes()))
        assert (revoked.message_type, revoked.status) == ("Receipt", "REVOKED")
        status = parse_reply(await ministry_a.request(status_request(
            sender="MOA-0001", reference="VET-2026-0001")))
        assert status.message_type == "StatusResponse"
        assert _text(status, "Status") == "REVOKED"
        assert [_child(e, "Status") for e in _events(status)] == ["VALID", "REVOKED"]
    finally:
        for client in (broker_a, broker_b, ministry_a, ministry_b):
            await client.close()


def _text(reply: object, name: str) -> str | None:
    body = reply.body  # type: ignore[attr-defined]
    return _child(body, name)


def _child(element: object, name: str) -> str | None:
    for child in element:  # type: ignore[attr-defined]
        if child.tag.endswith("}" + name):
            return str(child.text)
    return None


def _events(reply: object) -> list[object]:
    return [e for e in reply.body if e.tag.endswith("}Event")]  # type: ignore[attr-defined]
