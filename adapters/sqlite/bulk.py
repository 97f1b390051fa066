"""SQLite's bulk insert: multi-row `INSERT … VALUES (…), (…), …` statements.

`executemany` steps the one-row INSERT once per row, and Python's sqlite3
module lets go of the GIL around every step; in the server the event loop
then takes it, and the writer — holding SQLite's one write lock — waits to
get it back, row after row. One statement for up to 256 rows binds the same
values with one step, so the writer keeps the GIL and spends about a third
less on its inserts (docs/benchmarks.md).

Chunks have fixed sizes (256, 64, 16, 4, 1 rows), so each table compiles to
at most five statement texts and sqlite3's statement cache keeps them all.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

#: Rows per statement, largest first; 256 rows × the widest table's columns stay far
#: below SQLite's limit of 32,766 bound values per statement.
CHUNKS = (256, 64, 16, 4, 1)
_ONE_ROW = re.compile(r"^(INSERT INTO .+ \([^()]*\)) VALUES \(([^()]*)\)$", re.DOTALL)


class MultiRowInsert:
    """A flavor's `insert_rows` for SQLite (named parameters, one-row INSERT texts)."""

    def insert_rows(self, cursor: Any, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        plan = _plan(sql)
        if plan is None or len(rows) == 1:
            cursor.executemany(sql, rows)
            return
        names, texts = plan
        width = len(names)
        values = [row[name] for row in rows for name in names]
        done, total = 0, len(rows)
        for size in CHUNKS:
            text = texts[size]
            while total - done >= size:
                cursor.execute(text, values[done * width:(done + size) * width])
                done += size


@functools.cache  # one entry per INSERT text of the schema
def _plan(sql: str) -> tuple[tuple[str, ...], dict[int, str]] | None:
    """Parameter names in column order and the statement text for each chunk size; None
    for a text that is not a plain one-row INSERT with named parameters."""
    match = _ONE_ROW.match(sql)
    if match is None:
        return None
    head, placeholders = match.groups()
    names = [p.strip() for p in placeholders.split(",")]
    if not all(name.startswith(":") and name[1:].isidentifier() for name in names):
        return None
    row = "(" + ", ".join("?" * len(names)) + ")"
    texts = {size: f"{head} VALUES {', '.join([row] * size)}" for size in CHUNKS}
    return tuple(name[1:] for name in names), texts
