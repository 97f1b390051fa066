"""Rows whose INSERT may wait: appended in the writer's transaction, written in bulk.

Append-only rows that nothing reads back within the same message (goods items,
payloads, status events, notifications) are queued instead of inserted one
statement at a time, and written in bulk, per statement, by the backend's bulk
path (`Flavor.insert_rows`: multi-row INSERT on SQLite, COPY on PostgreSQL,
`executemany` on Oracle): before COMMIT, or as soon as any statement touches
one of their tables — so every read, in this message or a later one of the
batch, sees them (ARCHITECTURE invariant 3).

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
#: The rows queued for one statement, in the order they were queued.
Group = tuple[sa.ClauseElement, list[Params]]


class DeferredRows:
    """Queued rows, kept per statement in first-queued order (no per-row bookkeeping:
    this runs for some twenty rows per message)."""

    def __init__(self) -> None:
        self._groups: dict[int, Group] = {}
        self.tables: set[str] = set()
        self._mark: dict[int, int] | None = None  # rows per group when the savepoint began
        self._carried: list[Group] = []           # pre-savepoint rows written while it is open

    def add(self, stmt: sa.ClauseElement, table: str, rows: Sequence[Params]) -> None:
        group = self._groups.get(id(stmt))
        if group is None:
            self._groups[id(stmt)] = (stmt, list(rows))
            self.tables.add(table)
        else:
            group[1].extend(rows)

    def take(self) -> list[Group]:
        """Everything queued, one group per statement in first-queued order; the queue empties."""
        groups = list(self._groups.values())
        if self._mark is not None:
            for key, count in self._mark.items():
                if count:
                    stmt, rows = self._groups[key]
                    self._carried.append((stmt, rows[:count]))
            self._mark = {}
        self._groups = {}
        self.tables = set()
        return groups

    def savepoint(self) -> None:
        self._mark = {key: len(rows) for key, (_, rows) in self._groups.items()}
        self._carried = []

    def rollback_to_savepoint(self) -> None:
        kept: dict[int, Group] = {}
        for stmt, rows in self._carried:
            _append(kept, stmt, rows)
        mark = self._mark or {}
        for key, (stmt, rows) in self._groups.items():
            count = mark.get(key, 0)
            if count:
                _append(kept, stmt, rows[:count])
        self._groups = kept
        self._carried = []
        self._mark = {key: len(rows) for key, (_, rows) in kept.items()}
        self.tables = {_table_name(stmt) for stmt, _ in kept.values()}

    def release_savepoint(self) -> None:
        self._mark = None
        self._carried = []

    def clear(self) -> None:
        self._groups = {}
        self.tables = set()
        self._mark = None
        self._carried = []


def _append(groups: dict[int, Group], stmt: sa.ClauseElement, rows: list[Params]) -> None:
    group = groups.get(id(stmt))
    if group is None:
        groups[id(stmt)] = (stmt, list(rows))
    else:
        group[1].extend(rows)


def _table_name(stmt: sa.ClauseElement) -> str:
    table = getattr(stmt, "table", None)
    return str(table.name) if table is not None else ""
