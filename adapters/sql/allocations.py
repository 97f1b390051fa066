"""Counters allocated per transaction: read once, handed out from memory, written back once.

Two tables hold "the last number handed out" for a key: `recipient_sequences`
(each recipient's notification Seq, on every backend) and `counters` (SQLite's
stand-in for sequences). Bumping such a row with one UPDATE per number costs a
round trip per number, three per customs declaration: they were the writer's
most expensive statements. Instead, within one transaction:

- The first time a key is needed, its row is read with a locking read
  (`SELECT … FOR UPDATE` on PostgreSQL and Oracle; on SQLite the clause
  compiles to nothing: the writer's `BEGIN IMMEDIATE` already holds the
  database's write lock). The row lock is held until the transaction ends,
  exactly like the lock of the UPDATE that used to bump the row: a node that
  needs the same key waits for this transaction, then reads the value it
  committed. So numbers are allocated and committed in order across nodes,
  without gaps. A key without a row gets one INSERTed at once (value 0), so
  that two nodes racing for a new key still collide on its primary key in the
  message that raced (`StoreConflict`; the writer retries that message).
- Numbers are then handed out from memory.
- Every changed row is written back with one `executemany` UPDATE per table:
  before COMMIT, or before any other statement that names the table (the
  session checks each statement, as it does for deferred rows), so every read
  of the transaction sees the values handed out so far.

Savepoints (the writer runs each message inside one): the first change of a
key while the savepoint is open records the key's state at the savepoint, and
ROLLBACK TO puts those states back. That returns the numbers of the failed
message (the next message gets them: no gap), and also undoes a write-back done
while the savepoint was open — ROLLBACK TO undid that UPDATE in the database,
so the restored value is written again at the next write-back. A key first read
inside the savepoint is forgotten (its INSERT and its row lock were undone too)
and read again when next needed.

Whatever ends the transaction (COMMIT, successful or not; ROLLBACK; a store
error, after which the writer drops its session) forgets everything: the next
transaction reads the rows again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

KEY = "alloc_key"
VALUE = "alloc_value"


class CounterTable:
    """A table with one row per key holding the last value handed out, and its statements.

    Bind names: `alloc_key` and `alloc_value`; the locking read takes `alloc_key0` … `alloc_keyN`.
    """

    def __init__(self, table: sa.Table, *, key: str, value: str) -> None:
        self.table = table
        self.name = str(table.name)
        self._key: sa.Column[str] = table.c[key]
        self._value: sa.Column[int] = table.c[value]
        #: `UPDATE … SET value = :alloc_value WHERE key = :alloc_key` (the write-back)
        self.write = (sa.update(table).where(self._key == sa.bindparam(KEY))
                      .values({self._value: sa.bindparam(VALUE)}))
        #: `INSERT … (key, value) VALUES (:alloc_key, :alloc_value)` (a key's first row)
        self.insert = sa.insert(table).values({self._key: sa.bindparam(KEY),
                                               self._value: sa.bindparam(VALUE)})
        self._reads: dict[int, sa.Select[str, int]] = {}

    @staticmethod
    def row(key: str, value: int) -> dict[str, Any]:
        """The parameters of `write` and `insert`."""
        return {KEY: key, VALUE: value}

    def read(self, count: int) -> sa.Select[str, int]:
        """`SELECT key, value … WHERE key IN (:alloc_key0 …) FOR UPDATE` for `count` keys."""
        stmt = self._reads.get(count)
        if stmt is None:
            keys = [sa.bindparam(f"{KEY}{i}", type_=self._key.type) for i in range(count)]
            stmt = sa.select(self._key, self._value).where(self._key.in_(keys))
            stmt = self._reads[count] = stmt.with_for_update()
        return stmt

    def __repr__(self) -> str:
        return f"CounterTable({self.name})"


class _Slot:
    """One key's counter: the last value handed out, and the value its row holds right now."""

    __slots__ = ("value", "stored")

    def __init__(self, value: int, stored: int) -> None:
        self.value = value
        self.stored = stored


Key = tuple[CounterTable, str]
State = tuple[int, int] | None  # (value, stored) at the savepoint; None: not known then


class Allocations:
    """The in-memory side of one transaction's counters (the session runs the SQL)."""

    def __init__(self) -> None:
        self._slots: dict[Key, _Slot] = {}
        self._dirty: set[Key] = set()          # value != stored
        #: Names of the tables with values not yet written back.
        self.tables: set[str] = set()
        self._undo: dict[Key, State] | None = None  # None: no savepoint open

    def unknown(self, counter: CounterTable, keys: Iterable[str]) -> list[str]:
        """The keys not read yet in this transaction (each once, in order)."""
        slots = self._slots
        return list(dict.fromkeys(k for k in keys if (counter, k) not in slots))

    def load(self, counter: CounterTable, key: str, stored: int) -> None:
        """The key's row as just read (or inserted) under its lock."""
        slot = (counter, key)
        if self._undo is not None and slot not in self._undo:
            self._undo[slot] = None
        self._slots[slot] = _Slot(stored, stored)

    def last(self, counter: CounterTable, key: str) -> int | None:
        """The last value handed out for the key; None if it has not been read."""
        slot = self._slots.get((counter, key))
        return None if slot is None else slot.value

    def next(self, counter: CounterTable, key: str) -> int:
        """Hand out the key's next value (the key must have been loaded)."""
        k = (counter, key)
        slot = self._slots[k]
        undo = self._undo
        if undo is not None and k not in undo:
            undo[k] = (slot.value, slot.stored)
        slot.value += 1
        self._dirty.add(k)
        self.tables.add(counter.name)
        return slot.value

    def take(self) -> dict[CounterTable, list[dict[str, Any]]]:
        """The write-back: changed rows per table, as UPDATE parameters; they count as written."""
        writes: dict[CounterTable, list[dict[str, Any]]] = {}
        undo = self._undo
        for k in self._dirty:
            slot = self._slots[k]
            if undo is not None and k not in undo:
                undo[k] = (slot.value, slot.stored)
            slot.stored = slot.value
            writes.setdefault(k[0], []).append(CounterTable.row(k[1], slot.value))
        self._dirty = set()
        self.tables = set()
        return writes

    # savepoints (one level, as the writer uses them) ----------------------------------------

    def savepoint(self) -> None:
        self._undo = {}

    def release_savepoint(self) -> None:
        self._undo = None

    def rollback_to_savepoint(self) -> None:
        """Back to the states at the savepoint, which stays open (as in SQL)."""
        for k, state in (self._undo or {}).items():
            if state is None:
                del self._slots[k]
                self._dirty.discard(k)
                continue
            value, stored = state
            self._slots[k] = _Slot(value, stored)
            if value != stored:
                self._dirty.add(k)
            else:
                self._dirty.discard(k)
        self._undo = {}
        self.tables = {counter.name for counter, _ in self._dirty}

    def clear(self) -> None:
        """The transaction ended: forget every value."""
        self._slots = {}
        self._dirty = set()
        self.tables = set()
        self._undo = None


def key_params(keys: Sequence[str]) -> dict[str, str]:
    """The parameters of `CounterTable.read(len(keys))`."""
    return {f"{KEY}{i}": key for i, key in enumerate(keys)}
