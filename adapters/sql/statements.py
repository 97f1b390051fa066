"""Statements as the session runs them: compiled once per dialect for the raw driver,
and the INSERT statements built from a table."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler


class CompiledSql(NamedTuple):
    """A statement as one backend runs it on the raw driver."""

    text: str
    constants: dict[str, Any]   # values fixed in the statement itself (a LIMIT, a literal)
    renames: dict[str, str]     # bind names the dialect escapes (Oracle: `number` -> `"number"`)


def compile_sql(stmt: sa.ClauseElement, dialect: Dialect) -> CompiledSql:
    """Compile once for `dialect`: late-rendered values (Oracle's FETCH FIRST n) are rendered
    in place, and reserved-word bind names are escaped the way the driver must receive them."""
    compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
    renames = dict(compiled.escaped_bind_names)
    if compiled.literal_execute_params or compiled.post_compile_params:
        expanding = [b.key for b in compiled.post_compile_params if b.expanding]
        if expanding:
            raise ValueError(f"expanding parameters are not supported: {expanding}")
        unset = {b.key: None for b in compiled.binds.values() if b.value is None}
        expanded = compiled.construct_expanded_state(unset, escape_names=True)
        text, values = expanded.statement, expanded.parameters
    else:
        text, values = str(compiled), compiled.params
        if renames:
            values = {renames.get(k, k): v for k, v in values.items()}
    constants = {k: v for k, v in values.items() if v is not None}
    return CompiledSql(text, constants, renames)


@functools.cache
def max_id(table: sa.Table) -> sa.Select[tuple[int]]:
    return sa.select(sa.func.max(table.c.id))


@functools.cache
def inserts(table: sa.Table) -> tuple[sa.Insert, sa.Insert]:
    """A table's INSERT without its generated key, and with every column."""
    return insert_of(table), insert_of(table, [c.name for c in table.columns])


@functools.cache
def _ranks(metadata: sa.MetaData) -> dict[str, int]:
    return {str(t.name): n for n, t in enumerate(metadata.sorted_tables)}


def insert_rank(stmt: sa.ClauseElement) -> int:
    """Where the table `stmt` inserts into comes in its metadata's dependency order."""
    table = getattr(stmt, "table", None)
    if not isinstance(table, sa.Table):
        return 0
    return _ranks(table.metadata).get(str(table.name), 0)


def insert_of(table: sa.Table, columns: Sequence[str] | None = None) -> sa.Insert:
    """`INSERT INTO table (...) VALUES (:col, ...)` with one named parameter per column."""
    names = columns if columns is not None else [
        c.name for c in table.columns if not (c.primary_key and c.identity is not None)
    ]
    return sa.insert(table).values({name: sa.bindparam(name) for name in names})
