"""Rows whose INSERT may wait: appended in the writer's transaction, written in bulk.

Append-only rows that nothing reads back within the same message (goods items,
payloads, status events, notifications) are queued instead of inserted one
statement at a time, and written with one `executemany` per statement: before
COMMIT, or as soon as any statement touches one of their tables — so every
read, in this message or a later one of the batch, sees them (ARCHITECTURE
invariant 3).

Savepoints: the writer runs each message inside one. Rows queued before the
savepoint that get written while it is open are remembered, because a
ROLLBACK TO that savepoint undoes them in the database too; they are queued
again. Rows of the failed message itself are dropped with it (invariant 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

Params = Mapping[str, Any]
Entry = tuple[sa.ClauseElement, Params]


class DeferredRows:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.tables: set[str] = set()
        self._mark: int | None = None    # len(entries) when the savepoint began
        self._carried: list[Entry] = []  # pre-savepoint rows written while it is open

    def add(self, stmt: sa.ClauseElement, table: str, rows: Sequence[Params]) -> None:
        self.entries.extend((stmt, row) for row in rows)
        self.tables.add(table)

    def take(self) -> list[list[Entry]]:
        """Everything queued, grouped by statement in first-queued order; the queue empties."""
        if self._mark is not None:
            self._carried.extend(self.entries[:self._mark])
            self._mark = 0
        groups: dict[int, list[Entry]] = {}
        for entry in self.entries:
            groups.setdefault(id(entry[0]), []).append(entry)
        self.entries = []
        self.tables = set()
        return list(groups.values())

    def savepoint(self) -> None:
        self._mark = len(self.entries)
        self._carried = []

    def rollback_to_savepoint(self) -> None:
        self.entries = self._carried + self.entries[:self._mark or 0]
        self._carried = []
        self._mark = len(self.entries)
        self.tables = {_table_name(stmt) for stmt, _ in self.entries}

    def release_savepoint(self) -> None:
        self._mark = None
        self._carried = []

    def clear(self) -> None:
        self.entries = []
        self.tables = set()
        self._mark = None
        self._carried = []


def _table_name(stmt: sa.ClauseElement) -> str:
    table = getattr(stmt, "table", None)
    return str(table.name) if table is not None else ""
