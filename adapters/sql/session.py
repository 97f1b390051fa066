"""`SqlSession`: one DB-API connection owned by one thread (the group-commit writer).

Statements are SQLAlchemy Core constructs, compiled once per dialect and
cached; they run on the raw DB-API cursor, because SQLAlchemy's per-statement
overhead is too high for the hot path (see docs/benchmarks.md). Parameters are
always passed by name. What differs between backends (savepoints, sequences,
generated keys, transaction start) is a `Flavor`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from adapters.errors import StoreError

Row = tuple[Any, ...]
Params = Mapping[str, Any]


class Flavor(Protocol):
    """What one backend does its own way."""

    dialect: Dialect

    def begin(self, cursor: Any) -> None: ...
    def savepoint(self, cursor: Any, name: str) -> None: ...
    def release(self, cursor: Any, name: str) -> None: ...
    def rollback_to(self, cursor: Any, name: str) -> None: ...
    def next_value(self, cursor: Any, sequence: str) -> int: ...
    def insert_returning_id(self, cursor: Any, sql: str, params: Params) -> int: ...


class SqlSession:
    """Runs compiled statements on one connection; translates driver errors."""

    def __init__(self, connection: Any, flavor: Flavor,
                 translate: Callable[[BaseException], StoreError]) -> None:
        self.connection = connection
        self.flavor = flavor
        self._translate = translate
        self._cursor = connection.cursor()
        self._compiled: dict[int, tuple[sa.ClauseElement, str, dict[str, Any]]] = {}

    @property
    def dialect_name(self) -> str:
        return str(self.flavor.dialect.name)

    def sql(self, stmt: sa.ClauseElement) -> str:
        """The statement's SQL for this backend (compiled once, then cached)."""
        return self._compile(stmt)[1]

    def _compile(self, stmt: sa.ClauseElement) -> tuple[sa.ClauseElement, str, dict[str, Any]]:
        cached = self._compiled.get(id(stmt))
        if cached is None or cached[0] is not stmt:
            compiled = stmt.compile(dialect=self.flavor.dialect)
            # Values fixed in the statement itself (a LIMIT, a literal) become binds too.
            constants = {k: v for k, v in compiled.params.items() if v is not None}
            cached = self._compiled[id(stmt)] = (stmt, str(compiled), constants)
        return cached

    def _bind(self, stmt: sa.ClauseElement, params: Params | None) -> tuple[str, Params]:
        _, text, constants = self._compile(stmt)
        if constants:
            return text, {**constants, **(params or {})}
        return text, params or {}

    @contextmanager
    def _driver_errors(self) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            translated = self._translate(exc)
            if translated is None:
                raise
            raise translated from exc

    def execute(self, stmt: sa.ClauseElement, params: Params | None = None) -> int:
        """Run a statement; returns the driver's row count."""
        with self._driver_errors():
            self._cursor.execute(*self._bind(stmt, params))
            return int(self._cursor.rowcount)

    def executemany(self, stmt: sa.ClauseElement, rows: Sequence[Params]) -> None:
        if not rows:
            return
        with self._driver_errors():
            text, constants = self._bind(stmt, None)
            if constants:
                rows = [{**constants, **row} for row in rows]
            self._cursor.executemany(text, rows)

    def fetchone(self, stmt: sa.ClauseElement, params: Params | None = None) -> Row | None:
        with self._driver_errors():
            self._cursor.execute(*self._bind(stmt, params))
            row = self._cursor.fetchone()
            return tuple(row) if row is not None else None

    def fetchall(self, stmt: sa.ClauseElement, params: Params | None = None) -> list[Row]:
        with self._driver_errors():
            self._cursor.execute(*self._bind(stmt, params))
            return [tuple(r) for r in self._cursor.fetchall()]

    def scalar(self, stmt: sa.ClauseElement, params: Params | None = None) -> Any:
        row = self.fetchone(stmt, params)
        return None if row is None else row[0]

    def insert_id(self, stmt: sa.ClauseElement, params: Params) -> int:
        """Insert one row and return its generated primary key."""
        with self._driver_errors():
            return self.flavor.insert_returning_id(self._cursor, *self._bind(stmt, params))

    def next_value(self, sequence: str) -> int:
        with self._driver_errors():
            return self.flavor.next_value(self._cursor, sequence)

    # transactions -------------------------------------------------------------------------

    def begin(self) -> None:
        with self._driver_errors():
            self.flavor.begin(self._cursor)

    def commit(self) -> None:
        with self._driver_errors():
            self.connection.commit()

    def rollback(self) -> None:
        with self._driver_errors():
            self.connection.rollback()

    def savepoint(self, name: str) -> None:
        with self._driver_errors():
            self.flavor.savepoint(self._cursor, name)

    def release(self, name: str) -> None:
        with self._driver_errors():
            self.flavor.release(self._cursor, name)

    def rollback_to(self, name: str) -> None:
        with self._driver_errors():
            self.flavor.rollback_to(self._cursor, name)

    def close(self) -> None:
        try:
            self._cursor.close()
            self.connection.close()
        except Exception:  # closing a broken connection must not raise
            pass


def insert_of(table: sa.Table, columns: Sequence[str] | None = None) -> sa.Insert:
    """`INSERT INTO table (...) VALUES (:col, ...)` with one named parameter per column."""
    names = columns if columns is not None else [
        c.name for c in table.columns if not (c.primary_key and c.identity is not None)
    ]
    return sa.insert(table).values({name: sa.bindparam(name) for name in names})
