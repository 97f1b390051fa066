"""SQLite backend: the embedded default store.

WAL journal, `synchronous=FULL` unless configured otherwise, `BEGIN IMMEDIATE`
so that several worker processes sharing one file queue for the write lock
instead of failing on a lock upgrade, and a busy timeout for that queue. Each
session's write transactions also queue on a lock file first
(`adapters.sqlite.writelock`), so that the queue is served promptly.
Registration numbers come from the `counters` table, allocated per transaction
by the session (`adapters.sql.allocations`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect

from adapters.errors import StoreConflict, StoreError, StoreUnavailable
from adapters.sql.allocations import CounterTable
from adapters.sql.deferred import Params
from adapters.sql.flavor import StandardSavepoints
from adapters.sql.session import SqlSession
from adapters.sqlite.bulk import MultiRowInsert
from adapters.sqlite.writelock import LockedConnection, WriteLock
from adapters.tables.core import counters

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
BUSY_TIMEOUT_MS = 30_000


#: SQLite has no sequences: one row per sequence name, allocated per transaction.
COUNTERS = CounterTable(counters, key="name", value="value")


class SqliteFlavor(StandardSavepoints, MultiRowInsert):
    dialect: Dialect = sqlite_dialect.dialect(paramstyle="named")
    counters: CounterTable | None = COUNTERS
    chooses_keys = True  # BEGIN IMMEDIATE: the writer holds the whole database
    number_block = 0  # numbers come from `counters`, allocated per transaction
    lazy_savepoints = True  # no row locks: a savepoint guards only what was written

    def __init__(self, write_lock: WriteLock | None = None) -> None:
        self.write_lock = write_lock

    def begin(self, cursor: Any) -> None:
        if self.write_lock is None:
            cursor.execute("BEGIN IMMEDIATE")
            return
        self.write_lock.acquire()  # given back by the session's COMMIT or ROLLBACK
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.write_lock.release()
            raise

    def next_value(self, cursor: Any, sequence: str) -> int:
        raise StoreError(f"SQLite has no sequence {sequence!r}: the session allocates its "
                         "numbers from `counters`")

    def next_values(self, cursor: Any, sequence: str, count: int) -> list[int]:
        raise StoreError("SQLite numbers come from the counters table (SqlSession.allocate)")

    def insert_returning_id(self, cursor: Any, sql: str, params: Params) -> int:
        cursor.execute(sql, params)
        return int(cursor.lastrowid)


def translate(exc: BaseException) -> StoreError:
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreConflict(str(exc))
    if isinstance(exc, sqlite3.OperationalError):
        # "database is locked" past the busy timeout, disk I/O errors, a vanished file.
        return StoreUnavailable(str(exc))
    if isinstance(exc, sqlite3.Error):
        return StoreError(str(exc))
    return StoreError(repr(exc))


def path_of(url: str) -> str:
    """The file of a `sqlite:///relative/path` or `sqlite:////absolute/path` URL."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError("SQLite URLs look like sqlite:///var/uams.db")
    path = url[len(prefix):]
    return path or ":memory:"


class SqliteStore:
    dialect_name = "sqlite"

    def __init__(self, url: str, *, synchronous: str = "FULL") -> None:
        synchronous = synchronous.upper()
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"sqlite synchronous must be one of {SYNCHRONOUS_MODES}")
        self.url = url
        self.path = path_of(url)
        self.synchronous = synchronous

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB
        return conn

    def raw_connection(self) -> sqlite3.Connection:
        """A fresh connection with this store's pragmas (for SQLAlchemy/Alembic)."""
        try:
            return self._connect()
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    def prepare(self) -> None:
        """Bring the file to the newest schema revision: SQLite upgrades itself on start."""
        from adapters import migrations

        if self._revision() != migrations.head():
            migrations.upgrade(self)

    def _revision(self) -> str | None:
        conn = self.raw_connection()
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None  # no version table yet
        finally:
            conn.close()
        return None if row is None else str(row[0])

    def open_session(self) -> SqlSession:
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc
        if self.path == ":memory:":
            return SqlSession(conn, SqliteFlavor(), translate)
        lock = WriteLock(f"{self.path}-writelock", BUSY_TIMEOUT_MS / 1000)
        return SqlSession(LockedConnection(conn, lock), SqliteFlavor(lock), translate)

    def close(self) -> None:
        pass
