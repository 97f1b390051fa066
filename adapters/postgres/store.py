"""PostgreSQL backend: psycopg 3, synchronous, on the thread that owns the session.

The group-commit writer runs on its own thread and holds one session, so a
sync driver fits: no event loop to share, and every round trip of a batch is
a plain call (bench/store_drivers.py compares it with asyncpg). Connections are
in autocommit mode and transactions are opened with an explicit `BEGIN`, so a
session that only reads holds no transaction open between calls.

URLs: `postgresql://user:password@host:5432/db?sslmode=verify-full&...` (any
libpq parameter in the query string); `postgres://` and `postgresql+psycopg://`
are accepted too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy.dialects.postgresql import psycopg as pg_dialect
from sqlalchemy.engine import Dialect

from adapters.errors import StoreConflict, StoreError, StoreUnavailable
from adapters.postgres.pool import ConnectionPool, PooledConnection
from adapters.sql.allocations import CounterTable
from adapters.sql.deferred import Params
from adapters.sql.flavor import StandardSavepoints
from adapters.sql.session import SqlSession
from adapters.tables.core import SEQUENCES

CONNECT_TIMEOUT_SECONDS = 5
APPLICATION_NAME = "uams-gateway"
_SEQUENCE_NAMES = frozenset(seq.name for seq in SEQUENCES.values())


class PostgresFlavor(StandardSavepoints):
    """What PostgreSQL does its own way (see `adapters.sql.session.Flavor`)."""

    dialect: Dialect = pg_dialect.dialect()  # type: ignore[no-untyped-call]
    counters: CounterTable | None = None  # real sequences (`next_value`)
    chooses_keys = False  # other nodes insert too: identity keys
    #: Registration numbers drawn 64 at a time: one round trip instead of one per message.
    #: Like the sequences' own CACHE 20, unused ones are gaps (unique, not gap-free: store.md).
    number_block = 64
    lazy_savepoints = False  # a savepoint also scopes the row locks taken after it

    def begin(self, cursor: Any) -> None:
        cursor.execute("BEGIN")

    def next_value(self, cursor: Any, sequence: str) -> int:
        if sequence not in _SEQUENCE_NAMES:
            raise StoreError(f"unknown sequence {sequence!r}")
        cursor.execute(f"SELECT nextval('{sequence}')")
        return int(cursor.fetchone()[0])

    def next_values(self, cursor: Any, sequence: str, count: int) -> list[int]:
        if sequence not in _SEQUENCE_NAMES:
            raise StoreError(f"unknown sequence {sequence!r}")
        cursor.execute(f"SELECT nextval('{sequence}') FROM generate_series(1, %s)", (count,))
        return [int(row[0]) for row in cursor.fetchall()]

    def insert_rows(self, cursor: Any, sql: str, rows: Sequence[Params]) -> None:
        """The queued rows by COPY: ~3 µs of client CPU per row here, against ~35–45 µs for
        psycopg's `executemany` of the INSERT (measured on this machine class)."""
        target, names = _copy_target(sql)
        with cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[name] for name in names])

    def insert_returning_id(self, cursor: Any, sql: str, params: Params) -> int:
        # The dialect already ends an INSERT into a table with an identity key with
        # `RETURNING <table>.id`; a statement without it gets one.
        if " RETURNING " not in sql:
            sql = f"{sql} RETURNING id"
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


_INSERT = re.compile(r"INSERT INTO (?P<table>\S+) \((?P<columns>[^)]*)\) "
                     r"VALUES \((?P<values>.*)\)(?: RETURNING [\w., ]+)?", re.DOTALL)
_BIND = re.compile(r"%\((\w+)\)s")


@functools.lru_cache(maxsize=64)
def _copy_target(sql: str) -> tuple[str, tuple[str, ...]]:
    """`table (col, …)` of a one-row INSERT, and its bind names in column order."""
    match = _INSERT.fullmatch(sql.strip())
    if match is None:
        raise StoreError(f"not a one-row INSERT: {sql[:80]!r}")
    names = tuple(_BIND.findall(match["values"]))
    if len(names) != len(match["columns"].split(",")):
        raise StoreError(f"not one bind per column: {sql[:80]!r}")
    return f"{match['table']} ({match['columns']})", names


#: Errors that say "try this message again": another transaction got there first.
_CONFLICTS = (pg_errors.UniqueViolation, pg_errors.DeadlockDetected,
              pg_errors.SerializationFailure)


def translate(exc: BaseException) -> StoreError:
    """A psycopg exception as the store's own error."""
    if isinstance(exc, _CONFLICTS):
        return StoreConflict(_first_line(exc))
    # Lost or refused connections, admin shutdown, "starting up", cancelled statements.
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return StoreUnavailable(_first_line(exc))
    if isinstance(exc, psycopg.Error):
        return StoreError(_first_line(exc))
    return StoreError(repr(exc))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def conninfo_of(url: str) -> str:
    """The libpq URI for a store URL (drops a SQLAlchemy `+driver` suffix)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise ValueError("PostgreSQL URLs look like postgresql://user@host:5432/dbname")
    return f"postgresql://{rest}"


class PostgresStore:
    """A PostgreSQL database shared by every gateway process and node."""

    dialect_name = "postgresql"

    def __init__(self, url: str, *, max_idle: int = 4) -> None:
        self.url = url
        self._conninfo = conninfo_of(url)
        self._pool = ConnectionPool(self._connect, max_idle=max_idle)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self._conninfo, autocommit=True,
                               connect_timeout=CONNECT_TIMEOUT_SECONDS,
                               application_name=APPLICATION_NAME)

    def raw_connection(self) -> psycopg.Connection[Any]:
        """A plain driver connection (driver-managed transactions) for SQLAlchemy/Alembic."""
        try:
            return psycopg.connect(self._conninfo, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                   application_name=APPLICATION_NAME)
        except psycopg.Error as exc:
            raise translate(exc) from exc

    def prepare(self) -> None:
        """Refuse a database whose schema is not at this gateway's revision."""
        from adapters.migrations import require_current

        require_current(self)

    def open_session(self) -> SqlSession:
        try:
            conn = self._pool.acquire()
        except psycopg.Error as exc:
            raise translate(exc) from exc
        return SqlSession(PooledConnection(self._pool, conn), PostgresFlavor(), translate)

    def close(self) -> None:
        self._pool.close()
