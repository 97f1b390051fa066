"""SQLite's bulk insert: multi-row `INSERT … VALUES (…), (…), …` statements.

`executemany` steps the one-row INSERT once per row, and Python's sqlite3
module lets go of the GIL around every step; in the server the event loop
then takes it, and the writer — holding SQLite's one write lock — waits to
get it back, row after row. One statement for up to 256 rows binds the same
values with one step, so the writer keeps the GIL and spends about a third
less on its inserts (docs/benchmarks.md).

Chunks have fixed sizes (256, 64, 16, 4, 1 rows), so each table compiles to
at most five statement texts and sqlite3's statement cache keeps them all.
A chunk never binds more values than the connection's SQLite allows in one
statement (32,766 since SQLite 3.32, 999 before): the larger sizes are left
out for a wide table on an old library.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

#: Rows per statement, largest first (those that fit the connection's limit on bound values).
CHUNKS = (256, 64, 16, 4, 1)
_ONE_ROW = re.compile(r"^(INSERT INTO .+ \([^()]*\)) VALUES \(([^()]*)\)$", re.DOTALL)


class MultiRowInsert:
    """A flavor's `insert_rows` for SQLite (named parameters, one-row INSERT texts)."""

    def insert_rows(self, cursor: Any, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        plan = _plan(sql, _variable_limit(cursor))
        if plan is None or len(rows) == 1:
            cursor.executemany(sql, rows)
            return
        names, texts = plan
        width = len(names)
        values = [row[name] for row in rows for name in names]
        done, total = 0, len(rows)
        for size, text in texts.items():
            while total - done >= size:
                cursor.execute(text, values[done * width:(done + size) * width])
                done += size


def _variable_limit(cursor: Any) -> int:
    connection = getattr(cursor, "connection", None)
    if isinstance(connection, sqlite3.Connection):
        return connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return 999  # SQLite's smallest default


@functools.cache  # one entry per INSERT text of the schema (and variable limit)
def _plan(sql: str, max_values: int) -> tuple[tuple[str, ...], dict[int, str]] | None:
    """Parameter names in column order and, largest first, the statement text for each
    chunk size that binds at most `max_values` values; None for a text that is not a
    plain one-row INSERT with named parameters."""
    match = _ONE_ROW.match(sql)
    if match is None:
        return None
    head, placeholders = match.groups()
    names = [p.strip() for p in placeholders.split(",")]
    if not all(name.startswith(":") and name[1:].isidentifier() for name in names):
        return None
    row = "(" + ", ".join("?" * len(names)) + ")"
    texts = {size: f"{head} VALUES {', '.join([row] * size)}"
             for size in CHUNKS if size == 1 or size * len(names) <= max_values}
    return tuple(name[1:] for name in names), texts
