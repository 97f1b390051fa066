"""What each store backend does its own way, for `SqlSession` (adapters/sql/session.py).

A backend's flavor says how it starts a transaction, takes savepoints, numbers
rows and writes queued rows in bulk; the two mixins here are the ways shared by
more than one backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Dialect

from adapters.sql.allocations import CounterTable
from adapters.sql.deferred import Params


class Flavor(Protocol):
    """What one backend does its own way."""

    dialect: Dialect
    #: The table of named counters standing in for sequences (SQLite), allocated per
    #: transaction by the session; None where `next_value` asks a real sequence.
    counters: CounterTable | None
    #: The writer may choose primary keys itself (`SqlSession.new_id`): true where its
    #: transaction holds the whole database (SQLite's one write lock).
    chooses_keys: bool
    #: Registration numbers drawn from their sequence this many at a time (`next_value`);
    #: 0: one at a time.
    number_block: int
    #: SAVEPOINT only once a message writes to the database itself (`SqlSession.savepoint`):
    #: true where a savepoint guards nothing else (SQLite has no row locks).
    lazy_savepoints: bool

    def begin(self, cursor: Any) -> None: ...
    def savepoint(self, cursor: Any, name: str) -> None: ...
    def release(self, cursor: Any, name: str) -> None: ...
    def rollback_to(self, cursor: Any, name: str) -> None: ...
    def next_value(self, cursor: Any, sequence: str) -> int: ...
    def next_values(self, cursor: Any, sequence: str, count: int) -> list[int]: ...
    def insert_rows(self, cursor: Any, sql: str, rows: Sequence[Params]) -> None:
        """Run the one-row INSERT `sql` for every row: the queued rows' bulk insert."""
    def insert_returning_id(self, cursor: Any, sql: str, params: Params) -> int: ...


class ExecuteMany:
    """The bulk insert most drivers do best: `executemany` of the one-row INSERT."""

    def insert_rows(self, cursor: Any, sql: str, rows: Sequence[Params]) -> None:
        cursor.executemany(sql, rows)


class StandardSavepoints:
    """SAVEPOINT, RELEASE SAVEPOINT and ROLLBACK TO SAVEPOINT as SQLite and PostgreSQL say them."""

    def savepoint(self, cursor: Any, name: str) -> None:
        cursor.execute(f"SAVEPOINT {name}")

    def release(self, cursor: Any, name: str) -> None:
        cursor.execute(f"RELEASE SAVEPOINT {name}")

    def rollback_to(self, cursor: Any, name: str) -> None:
        cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
