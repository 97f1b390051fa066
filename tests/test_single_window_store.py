"""The single-window queries an arriving or revoked certificate runs find their rows
through an index, never by scanning a table (checked on SQLite's query plans)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.repositories import certificates, clearance
from adapters.sqlite.store import SqliteStore

QUERIES = {
    "waiting for a referenced number": clearance._waiting_for_number,
    "waiting for any certificate of a type": clearance._waiting_for_any,
    "relying on a certificate": clearance._relying_on,
    "counting candidates": certificates._candidates,
    "certificate by number": certificates._by_number,
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_query_uses_an_index(tmp_path: Path, name: str) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'plan.db'}")
    store.prepare()
    session = store.open_session()
    try:
        statement: sa.ClauseElement = QUERIES[name]
        sql = session.sql(statement)
        params = {p: "x" for p in statement.compile().params}
        plan = [row[-1] for row in session.connection.execute(
            f"EXPLAIN QUERY PLAN {sql}", params).fetchall()]
    finally:
        session.close()
        store.close()
    assert plan, name
    for step in plan:
        assert not step.startswith("SCAN"), f"{name}: {plan}"
    assert any("USING" in step and "INDEX" in step for step in plan), f"{name}: {plan}"
