"""A small pool of idle PostgreSQL connections, handed out as `SqlSession`s.

The writer keeps its session for its whole life; the pool serves everything
else (retention job, `db` commands) and lets a session that ended cleanly give
its connection back instead of closing it. A connection that broke, or that is
still inside a transaction, is closed rather than pooled.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus


class ConnectionPool:
    """At most `max_idle` idle connections; `acquire` opens a new one when none is idle."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], max_idle: int = 4) -> None:
        self._connect = connect
        self._max_idle = max_idle
        self._idle: deque[psycopg.Connection[Any]] = deque()
        self._lock = threading.Lock()
        self._closed = False

    def acquire(self) -> psycopg.Connection[Any]:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect()
            if _reusable(conn):
                return conn
            conn.close()

    def release(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._max_idle and _reusable(conn):
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
        for conn in idle:
            conn.close()

    @property
    def idle(self) -> int:
        with self._lock:
            return len(self._idle)


def _reusable(conn: psycopg.Connection[Any]) -> bool:
    return (not conn.closed and not conn.broken
            and conn.info.transaction_status == TransactionStatus.IDLE)


class PooledConnection:
    """What `SqlSession` holds: the driver connection, whose `close` returns it to the pool."""

    def __init__(self, pool: ConnectionPool, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn
        self._pool = pool
        self._released = False

    def cursor(self) -> psycopg.Cursor[Any]:
        return self.raw.cursor()

    def commit(self) -> None:
        self.raw.commit()

    def rollback(self) -> None:
        self.raw.rollback()

    def close(self) -> None:
        if not self._released:
            self._released = True
            self._pool.release(self.raw)
