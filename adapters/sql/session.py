"""`SqlSession`: one DB-API connection owned by one thread (the group-commit writer).

Statements are SQLAlchemy Core constructs, compiled once per dialect and
cached; they run on the raw DB-API cursor, because SQLAlchemy's per-statement
overhead is too high for the hot path (see docs/benchmarks.md). Parameters are
always passed by name. What differs between backends (savepoints, sequences,
generated keys, transaction start) is a `Flavor`.

Two kinds of writes wait in memory until COMMIT (or until a statement touches
their table, or inserts a row referring to a queued one): deferred INSERT rows
(adapters/sql/deferred.py), written parents first with the flavor's bulk insert,
and counters allocated per transaction (adapters/sql/allocations.py). Where the
writer holds the whole database (SQLite) it also chooses the keys of the rows it
queues (`new_id`) and issues a message's SAVEPOINT only once the message writes;
docs/store.md ("How the writer spends a batch") has the whole picture.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from adapters.errors import StoreError
from adapters.sql.allocations import Allocations, CounterTable, key_params
from adapters.sql.deferred import DeferredRows, Params
from adapters.sql.flavor import Flavor
from adapters.sql.statements import CompiledSql, compile_sql, insert_rank, inserts, max_id

Row = tuple[Any, ...]
_WORDS = re.compile(r"[a-z_][a-z0-9_]*")


class SqlSession:
    """Runs compiled statements on one connection; translates driver errors."""

    def __init__(self, connection: Any, flavor: Flavor,
                 translate: Callable[[BaseException], StoreError]) -> None:
        self.connection = connection
        self.flavor = flavor
        self._translate = translate
        self._cursor = connection.cursor()
        self._compiled: dict[int, tuple[sa.ClauseElement, CompiledSql]] = {}
        self._deferred = DeferredRows()
        self._allocations = Allocations()
        self._touches: dict[int, tuple[sa.ClauseElement, frozenset[str]]] = {}
        self._last_ids: dict[str, int] = {}  # keys chosen in this transaction, per table
        #: How many times queued rows were written: a queued row whose session still shows
        #: the count it was queued at has not been written yet (and may still be changed).
        self.flushes = 0
        self._unissued_savepoint: str | None = None
        #: numbers drawn ahead from database sequences: a sequence never hands a value out
        #: twice, so they stay good across transactions (unused ones are only gaps)
        self._drawn: dict[str, list[int]] = {}

    @property
    def dialect_name(self) -> str:
        return str(self.flavor.dialect.name)

    def sql(self, stmt: sa.ClauseElement) -> str:
        """The statement's SQL for this backend (compiled once, then cached)."""
        return self._compile(stmt).text

    def _compile(self, stmt: sa.ClauseElement) -> CompiledSql:
        cached = self._compiled.get(id(stmt))
        if cached is None or cached[0] is not stmt:
            cached = self._compiled[id(stmt)] = (stmt, compile_sql(stmt, self.flavor.dialect))
        return cached[1]

    def _bind(self, stmt: sa.ClauseElement, params: Params | None) -> tuple[str, Params]:
        text, constants, renames = self._compile(stmt)
        if renames and params:
            params = {renames.get(k, k): v for k, v in params.items()}
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

    def _failed(self, exc: Exception) -> StoreError:
        """The store's own error for a driver exception (raised `from` it)."""
        return self._translate(exc)

    # The hot methods below use try/except inline: a context manager per statement costs
    # measurably on the group-commit path (about 20 statements per message).

    def execute(self, stmt: sa.ClauseElement, params: Params | None = None) -> int:
        """Run a statement; returns the driver's row count."""
        if self._deferred.tables or self._allocations.tables:
            self._flush_for(stmt)
        if self._unissued_savepoint is not None:
            self._issue_savepoint()
        cursor = self._cursor
        try:
            cursor.execute(*self._bind(stmt, params))
            return int(cursor.rowcount)
        except Exception as exc:
            raise self._failed(exc) from exc

    def executemany(self, stmt: sa.ClauseElement, rows: Sequence[Params]) -> None:
        if not rows:
            return
        if self._deferred.tables or self._allocations.tables:
            self._flush_for(stmt)
        self._executemany(stmt, rows)

    def _executemany(self, stmt: sa.ClauseElement, rows: Sequence[Params]) -> None:
        if self._unissued_savepoint is not None:
            self._issue_savepoint()
        text, constants, renames = self._compile(stmt)
        if renames:
            rows = [{renames.get(k, k): v for k, v in row.items()} for row in rows]
        if constants:
            rows = [{**constants, **row} for row in rows]
        try:
            self._cursor.executemany(text, rows)
        except Exception as exc:
            raise self._failed(exc) from exc

    def fetchone(self, stmt: sa.ClauseElement, params: Params | None = None) -> Row | None:
        if self._deferred.tables or self._allocations.tables:
            self._flush_for(stmt)
        if self._unissued_savepoint is not None and not isinstance(stmt, sa.Select):
            self._issue_savepoint()
        cursor = self._cursor
        try:
            cursor.execute(*self._bind(stmt, params))
            row = cursor.fetchone()
        except Exception as exc:
            raise self._failed(exc) from exc
        return tuple(row) if row is not None else None

    def fetchall(self, stmt: sa.ClauseElement, params: Params | None = None) -> list[Row]:
        if self._deferred.tables or self._allocations.tables:
            self._flush_for(stmt)
        if self._unissued_savepoint is not None and not isinstance(stmt, sa.Select):
            self._issue_savepoint()
        cursor = self._cursor
        try:
            cursor.execute(*self._bind(stmt, params))
            return [tuple(r) for r in cursor.fetchall()]
        except Exception as exc:
            raise self._failed(exc) from exc

    def scalar(self, stmt: sa.ClauseElement, params: Params | None = None) -> Any:
        row = self.fetchone(stmt, params)
        return None if row is None else row[0]

    def insert_id(self, stmt: sa.ClauseElement, params: Params) -> int:
        """Insert one row and return its generated primary key."""
        if self._deferred.tables or self._allocations.tables:
            self._flush_for(stmt)
        if self._unissued_savepoint is not None:
            self._issue_savepoint()
        try:
            return self.flavor.insert_returning_id(self._cursor, *self._bind(stmt, params))
        except Exception as exc:
            raise self._failed(exc) from exc

    # deferred inserts ------------------------------------------------------------------------

    def defer(self, stmt: sa.Insert, rows: Sequence[Params]) -> None:
        """Queue INSERT rows nothing reads back at once; written in bulk (adapters/sql/deferred)."""
        if rows:
            self._deferred.add(stmt, str(stmt.table.name), rows)

    def flush(self) -> None:
        """Write everything waiting in memory now: allocated counters, then queued rows."""
        self._write_back()
        self._flush_deferred()

    def _flush_deferred(self) -> None:
        groups = self._deferred.take()
        if groups:
            self.flushes += 1
        if len(groups) > 1:  # parents before children: foreign keys are checked at once
            groups.sort(key=lambda group: insert_rank(group[0]))
        for stmt, rows in groups:
            self._insert_rows(stmt, rows)

    def _insert_rows(self, stmt: sa.ClauseElement, rows: Sequence[Params]) -> None:
        text, constants, renames = self._compile(stmt)
        if constants or renames:
            self._executemany(stmt, rows)
            return
        if self._unissued_savepoint is not None:
            self._issue_savepoint()
        try:
            self.flavor.insert_rows(self._cursor, text, rows)
        except Exception as exc:
            raise self._failed(exc) from exc

    def _flush_for(self, stmt: sa.ClauseElement) -> None:
        """Before `stmt` runs: write what waits in memory for the tables it names, and for
        the tables its rows refer to (an INSERT of a child needs its queued parent)."""
        cached = self._touches.get(id(stmt))
        if cached is None or cached[0] is not stmt:
            text = self._compile(stmt).text
            words = set(_WORDS.findall(text.lower()))
            table = getattr(stmt, "table", None)
            if isinstance(table, sa.Table):
                words.update(str(fk.column.table.name) for fk in table.foreign_keys)
            cached = self._touches[id(stmt)] = (stmt, frozenset(words))
        if cached[1] & self._allocations.tables:
            self._write_back()
        if cached[1] & self._deferred.tables:
            self._flush_deferred()

    # keys chosen by the writer -------------------------------------------------------------

    def new_id(self, table: sa.Table) -> int | None:
        """A primary key for a row of `table` that this transaction will `defer`, or None where
        the database must generate keys at insert (then `insert_id` the row).

        - Where the flavor `chooses_keys` (SQLite: the writer's transaction holds the whole
          database), the first key of a table in a transaction is max(id) + 1 and the next
          ones count on in memory. Every row of such a table must then be inserted this way
          within the transaction. A message that fails leaves a gap, which is harmless.
        - Elsewhere other nodes insert too, and a key conflict (the same message arriving at
          two nodes) must fail inside the message that raced, not in a bulk insert at COMMIT:
          rows with such keys are inserted at once.
        """
        if not self.flavor.chooses_keys:
            return None
        name = str(table.name)
        last = self._last_ids.get(name)
        if last is None:
            last = int(self.scalar(max_id(table)) or 0)
        last += 1
        self._last_ids[name] = last
        return last

    def add_row(self, table: sa.Table, row: Params) -> int:
        """Insert a row whose unique keys cannot conflict (e.g. a number drawn from the store)
        and return its key: queued for the bulk insert with a key of the writer's choosing
        where it `chooses_keys`, else inserted at once for the key the database generates."""
        key = self.new_id(table)
        if key is None:
            return self.insert_id(inserts(table)[0], row)
        self.defer(inserts(table)[1], [{"id": key, **row}])
        return key

    # counters allocated per transaction (adapters/sql/allocations) ---------------------------

    def allocate(self, counter: CounterTable, keys: Sequence[str]) -> list[int]:
        """The next value of each key's counter, in the order given (a key given twice gets
        two). Inside a transaction: the first use of a key reads and row-locks its row."""
        allocations = self._allocations
        unknown = allocations.unknown(counter, keys)
        if unknown:
            found = self._read_counters(counter, unknown)
            for key in unknown:
                stored = found.get(key)
                if stored is None:  # the key's first value: its row, now (see allocations)
                    self._execute(counter.insert, counter.row(key, 0))
                    stored = 0
                allocations.load(counter, key, stored)
        return [allocations.next(counter, key) for key in keys]

    def allocated(self, counter: CounterTable, key: str) -> int:
        """The last value handed out for `key` (0: none yet), its row locked like `allocate`."""
        last = self._allocations.last(counter, key)
        if last is not None:
            return last
        stored = self._read_counters(counter, [key]).get(key)
        if stored is None:
            return 0
        self._allocations.load(counter, key, stored)
        return stored

    def _read_counters(self, counter: CounterTable, keys: Sequence[str]) -> dict[str, int]:
        cursor = self._cursor
        try:
            cursor.execute(*self._bind(counter.read(len(keys)), key_params(keys)))
            return {str(key): int(value) for key, value in cursor.fetchall()}
        except Exception as exc:
            raise self._failed(exc) from exc

    def _execute(self, stmt: sa.ClauseElement, params: Params) -> None:
        """Run a statement the session issues itself (nothing waiting needs writing first)."""
        if self._unissued_savepoint is not None:
            self._issue_savepoint()
        try:
            self._cursor.execute(*self._bind(stmt, params))
        except Exception as exc:
            raise self._failed(exc) from exc

    def _write_back(self) -> None:
        for counter, rows in self._allocations.take().items():
            self._executemany(counter.write, rows)

    def next_value(self, sequence: str) -> int:
        """The sequence's next value: a database sequence, or a row of the flavor's counters
        allocated per transaction (SQLite)."""
        counters = self.flavor.counters
        if counters is not None:
            return self.allocate(counters, [sequence])[0]
        block = self.flavor.number_block
        with self._driver_errors():
            if not block:
                return self.flavor.next_value(self._cursor, sequence)
            drawn = self._drawn.get(sequence)
            if not drawn:
                drawn = self._drawn[sequence] = list(reversed(
                    self.flavor.next_values(self._cursor, sequence, block)))
            return drawn.pop()

    # transactions -------------------------------------------------------------------------

    def begin(self) -> None:
        self._unissued_savepoint = None
        self._allocations.clear()
        self._last_ids.clear()
        with self._driver_errors():
            self.flavor.begin(self._cursor)

    def commit(self) -> None:
        try:
            self.flush()
            with self._driver_errors():
                self.connection.commit()
        finally:
            self._allocations.clear()  # committed, or to be rolled back: read again next time
            self._last_ids.clear()

    def rollback(self) -> None:
        self._unissued_savepoint = None
        self._deferred.clear()
        self._allocations.clear()
        self._last_ids.clear()
        with self._driver_errors():
            self.connection.rollback()

    def savepoint(self, name: str) -> None:
        """One level, as the writer uses it: a savepoint per message.

        Where the flavor allows `lazy_savepoints`, the SAVEPOINT statement is issued only
        before the message's first statement that writes to the database: most messages
        only read and queue rows (rolled back in memory), and need none."""
        self._deferred.savepoint()
        self._allocations.savepoint()
        if self.flavor.lazy_savepoints:
            self._unissued_savepoint = name
            return
        with self._driver_errors():
            self.flavor.savepoint(self._cursor, name)

    def _issue_savepoint(self) -> None:
        name, self._unissued_savepoint = self._unissued_savepoint, None
        assert name is not None
        with self._driver_errors():
            self.flavor.savepoint(self._cursor, name)

    def release(self, name: str) -> None:
        if self._unissued_savepoint == name:
            self._unissued_savepoint = None
        else:
            with self._driver_errors():
                self.flavor.release(self._cursor, name)
        self._deferred.release_savepoint()
        self._allocations.release_savepoint()

    def rollback_to(self, name: str) -> None:
        if self._unissued_savepoint != name:  # else nothing reached the database
            with self._driver_errors():
                self.flavor.rollback_to(self._cursor, name)
        self._deferred.rollback_to_savepoint()
        self._allocations.rollback_to_savepoint()

    def close(self) -> None:
        try:
            self._cursor.close()
            self.connection.close()
        except Exception:  # closing a broken connection must not raise
            pass
