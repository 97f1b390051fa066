"""A prompt, fair-enough queue for SQLite's one write lock across worker processes.

SQLite's own busy handler sleeps with growing back-off (up to 100 ms) while it
waits; two group-commit writers that commit back to back then starve each other
(one worker's p99 went to seconds in bench/store_ingest.py). Each write
transaction first takes an exclusive `flock` on `<database>-writelock`, polled
every millisecond, and gives it back at COMMIT or ROLLBACK: the waiting writer
gets the database within a millisecond of the other's commit. SQLite's lock
still guards the data; this only orders the writers.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from typing import Any

POLL_SECONDS = 0.001


class WriteLock:
    """One session's handle on the shared write-lock file."""

    def __init__(self, path: str, timeout_seconds: float) -> None:
        self.path = path
        self.timeout = timeout_seconds
        self._fd: int | None = None
        self.held = False

    def acquire(self) -> None:
        if self.held:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.held = True
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(POLL_SECONDS)

    def release(self) -> None:
        if self.held and self._fd is not None:
            self.held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class LockedConnection:
    """The sqlite3 connection a session holds: COMMIT and ROLLBACK give the write lock back."""

    def __init__(self, conn: sqlite3.Connection, lock: WriteLock) -> None:
        self.raw = conn
        self.lock = lock

    def cursor(self) -> sqlite3.Cursor:
        return self.raw.cursor()

    def commit(self) -> None:
        try:
            self.raw.commit()
        finally:
            self.lock.release()

    def rollback(self) -> None:
        try:
            self.raw.rollback()
        finally:
            self.lock.release()

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            self.lock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)
