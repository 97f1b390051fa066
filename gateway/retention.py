"""Retention: stored payloads older than a configured age are deleted in small batches.

Only `message_payloads` (the received XML) is purged. The message log (the
idempotency key), decisions, status history and notifications are kept. Each
batch is its own short transaction on its own connection, with a pause after
it, so the group-commit writer is never held up for longer than one batch
(on SQLite, where writers queue for one lock, that matters).

Several processes or nodes may run the job at once: they delete in the same
order, one row at a time by key, so they wait for each other instead of
deadlocking, and a row deleted twice is simply not found the second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import sqlalchemy as sa
import structlog

from adapters.errors import StoreError
from adapters.sql.session import SqlSession
from adapters.store import Store
from adapters.tables.core import message_payloads
from gateway.config import RetentionSection

log = structlog.get_logger("uams.retention")

_p = message_payloads.c
_summary = sa.select(sa.func.count(), sa.func.min(_p.received_at),
                     sa.func.max(_p.received_at)).where(_p.received_at < sa.bindparam("cutoff"))
_delete = sa.delete(message_payloads).where(_p.message_pk == sa.bindparam("pk"))


@cache
def _candidates(limit: int) -> sa.Select[tuple[int]]:
    return (sa.select(_p.message_pk).where(_p.received_at < sa.bindparam("cutoff"))
            .order_by(_p.received_at, _p.message_pk).limit(limit))


@dataclass(frozen=True, slots=True)
class PurgeSummary:
    """What a purge would delete (or did): payloads received before `cutoff`."""

    cutoff: str
    payloads: int
    oldest: str | None
    newest: str | None


def cutoff_for(now: datetime, max_age_days: int) -> str:
    """The stored-timestamp text before which payloads are purged."""
    return (now - timedelta(days=max_age_days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def summarize(session: SqlSession, cutoff: str) -> PurgeSummary:
    row = session.fetchone(_summary, {"cutoff": cutoff})
    count, oldest, newest = row if row is not None else (0, None, None)
    return PurgeSummary(cutoff, int(count or 0), oldest, newest)


def purge_batch(session: SqlSession, cutoff: str, limit: int) -> int:
    """Delete up to `limit` of the oldest payloads before `cutoff` in one transaction."""
    session.begin()
    try:
        keys = [row[0] for row in session.fetchall(_candidates(limit), {"cutoff": cutoff})]
        session.executemany(_delete, [{"pk": key} for key in sorted(keys)])
        session.commit()
    except BaseException:
        with contextlib.suppress(StoreError):
            session.rollback()
        raise
    return len(keys)


class RetentionJob:
    """Purges old payloads now and then; `run` is the background task, `run_once` one pass."""

    def __init__(self, store: Store, settings: RetentionSection, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._stopping = threading.Event()

    def cutoff(self) -> str:
        return cutoff_for(self.clock(), self.settings.payload_max_age_days)

    def summary(self) -> PurgeSummary:
        session = self.store.open_session()
        try:
            return summarize(session, self.cutoff())
        finally:
            session.close()

    def run_once(self) -> int:
        """Delete every payload past its age, batch by batch; returns how many went."""
        cutoff = self.cutoff()
        limit = self.settings.batch_size
        pause = self.settings.pause_ms / 1000
        total = 0
        session = self.store.open_session()
        try:
            while not self._stopping.is_set():
                started = time.perf_counter()
                deleted = purge_batch(session, cutoff, limit)
                total += deleted
                if deleted < limit:
                    break
                log.debug("retention_batch", deleted=deleted,
                          seconds=round(time.perf_counter() - started, 4))
                if pause:
                    self._stopping.wait(pause)
        finally:
            session.close()
        if total:
            log.info("retention_purged", payloads=total, cutoff=cutoff)
        return total

    async def run(self) -> None:
        """Run a pass now and then every `interval_seconds`, until cancelled.

        Cancelling lets the batch in progress finish (it is short) before returning.
        """
        loop = asyncio.get_running_loop()
        while True:
            pass_done = loop.run_in_executor(None, self._run_logged)
            try:
                await asyncio.shield(pass_done)
            except asyncio.CancelledError:
                self._stopping.set()
                await pass_done
                raise
            await asyncio.sleep(self.settings.interval_seconds)

    def _run_logged(self) -> None:
        try:
            self.run_once()
        except StoreError as exc:
            log.warning("retention_failed", error=type(exc).__name__, detail=str(exc)[:200])
