"""The whole gateway runs unchanged on SQLite and PostgreSQL: every example message, sent
over mutual TLS in order, gets the same reply from both, and none is an internal error.
The statements that run are recorded and compiled for Oracle too (see test_oracle_sql)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sql.session import SqlSession
from gateway.app import start_gateway
from gateway.client import UamsClient, parse_reply
from tests.conftest import ROOT, client_context, make_config
from tests.store.backends import pg_database
from tests.store.oracle_checks import problems_for_oracle

EXAMPLES = sorted((ROOT / "examples" / "valid").glob("*.xml"))
Outcome = tuple[str, str, str | None, str | None, str | None, bool]


async def send_examples(pki_dir: Path, tmp_path: Path, store_url: str) -> list[Outcome]:
    """Every valid example in order, then each command again (a duplicate)."""
    config = make_config(pki_dir, tmp_path, STORE_URL=store_url)
    gateway = await start_gateway(config)
    clients: dict[str, UamsClient] = {}
    outcomes: list[Outcome] = []
    try:
        assert gateway.tls_port is not None
        for path in [*EXAMPLES, *EXAMPLES]:
            sender = path.name.split(".")[-2]
            if sender not in clients:
                clients[sender] = await UamsClient.connect(
                    "127.0.0.1", gateway.tls_port, client_context(pki_dir, sender),
                    server_hostname="localhost")
            reply = parse_reply(await clients[sender].request(path.read_bytes()))
            outcomes.append((path.name, reply.message_type, reply.code, reply.reference,
                             reply.status, reply.duplicate))
    finally:
        for client in clients.values():
            await client.close()
        await gateway.stop()
    return outcomes


@pytest.fixture
def recorded_statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[Any]]:
    """Every statement any session compiles while the fixture is active."""
    seen: set[Any] = set()
    original = SqlSession._compile

    def recording(self: SqlSession, stmt: sa.ClauseElement) -> Any:
        seen.add(stmt)
        return original(self, stmt)

    monkeypatch.setattr(SqlSession, "_compile", recording)
    yield seen


@pytest.mark.postgres
async def test_examples_give_the_same_replies_on_sqlite_and_postgres(
        pki_dir: Path, tmp_path: Path, recorded_statements: set[Any]) -> None:
    on_sqlite = await send_examples(pki_dir, tmp_path / "sqlite",
                                    f"sqlite:///{tmp_path / 'sqlite' / 'uams.db'}")
    with pg_database() as url:
        on_postgres = await send_examples(pki_dir, tmp_path / "pg", url)
    assert on_postgres == on_sqlite
    failures = [o for o in on_sqlite if o[2] in ("INTERNAL_ERROR", "UNAVAILABLE")]
    assert failures == []
    assert any(o[1] == "Receipt" and not o[5] for o in on_sqlite)
    assert any(o[1] == "Receipt" and o[5] for o in on_sqlite)  # the resends
    # Everything that ran on SQLite and PostgreSQL compiles to SQL Oracle accepts.
    assert len(recorded_statements) > 20
    problems = {str(stmt)[:60]: problems_for_oracle(stmt) for stmt in recorded_statements}
    assert {k: v for k, v in problems.items() if v} == {}
