"""Retention: old payloads and old acknowledged notifications are deleted in small batches.

Two things are purged:

- `message_payloads` (the received XML) older than `payload_max_age_days`;
- `notifications` older than `notification_max_age_days` that were acknowledged:
  pulled (`pulled = 1`), or published (`published = 1`) while the gateway
  publishes to MQTT (see docs/notifications.md, "Retention"). A notification
  never acknowledged is kept, however old.

The message log (the idempotency key), decisions, status history and
`recipient_sequences` are kept. Each batch is its own short transaction on its
own connection, with a pause after it, so the group-commit writer is never held
up for longer than one batch (on SQLite, where writers queue for one lock, that
matters).

Several processes or nodes may run the job at once. Payloads: they delete in
the same order, one row at a time by key, so they wait for each other instead
of deadlocking, and a row deleted twice is simply not found the second time.
Notifications: a batch first locks its rows with `FOR UPDATE SKIP LOCKED` (in
id order) and deletes only what it locked, so it never waits for anybody — not
for another purge, not for a pull acknowledging those rows, not for a relay
that claimed them — and therefore cannot take part in a deadlock; a row locked
elsewhere is left for the next pass. Others wait for a batch at most (it is
short: it never waits itself). SQLite has no row locks: the batch holds the
write lock, which serializes it with everything else.

Why deleting acknowledged notifications breaks none of the outbox's promises
(`adapters/repositories/outbox.py`):

- Seq allocation reads and bumps `recipient_sequences.last_seq`, never
  `MAX(seq)` of `notifications`, so a recipient whose rows are all gone still
  gets `last_seq + 1`: numbering stays gap-free and never repeats. `lock_stream`
  (the pull's `AckUpTo` check) reads the same row.
- Pull acknowledges `seq <= AckUpTo AND pulled = 0` and answers
  `pulled = 0 AND seq > AckUpTo` in Seq order. Pulled rows are a prefix of the
  stream (each ack marks `seq <= n`); deleting some of them removes nothing a
  pull would answer. With MQTT on, a published row not yet pulled may go once
  it is old: a puller that stayed away longer than the age then sees Seq jump
  over it (documented; the rows it still gets remain in Seq order).
- MQTT claiming takes the lowest *remaining* unpublished row as the head and the
  contiguous run from it; deleting published rows never touches that set.
  Deleting a pulled row not yet published (broker silent for longer than the
  age) just moves the head: a claim that read the old head finds it gone (or
  locked by the purge, SKIP LOCKED) and returns None, and the next round starts
  at the new head; a mark for a deleted row updates nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
import structlog

from adapters.errors import StoreError
from adapters.sql.session import SqlSession
from adapters.store import Store
from adapters.tables.core import message_payloads
from adapters.tables.outbox import notifications
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


_n = notifications.c
_delete_notification = sa.delete(notifications).where(_n.id == sa.bindparam("pk"))


def _acknowledged(publishing: bool) -> sa.ColumnElement[bool]:
    """Pulled, or (while the gateway publishes to MQTT) published."""
    return sa.or_(_n.pulled == 1, _n.published == 1) if publishing else _n.pulled == 1


@cache
def _notification_summary(publishing: bool) -> sa.Select[int, Any]:
    """Old notifications: how many, and how many of them acknowledged (the ones that go)."""
    return (sa.select(sa.func.count(),
                      sa.func.sum(sa.case((_acknowledged(publishing), 1), else_=0)))
            .where(_n.at < sa.bindparam("cutoff")))


@cache
def _notification_candidates(limit: int, publishing: bool) -> sa.Select[tuple[int]]:
    """The next `limit` deletable ids after `after` (keyset: one sweep per pass)."""
    return (sa.select(_n.id)
            .where(_n.id > sa.bindparam("after"), _n.at < sa.bindparam("cutoff"),
                   _acknowledged(publishing))
            .order_by(_n.id).limit(limit))


@cache
def _notification_lock(publishing: bool) -> sa.Select[tuple[int]]:
    """Lock the deletable rows of an id range, skipping rows locked elsewhere.

    A range rather than a row limit: Oracle refuses FOR UPDATE with FETCH FIRST.
    The conditions are checked again under the lock (flags only ever go 0 -> 1).
    """
    return (sa.select(_n.id)
            .where(_n.id >= sa.bindparam("lo"), _n.id <= sa.bindparam("hi"),
                   _n.at < sa.bindparam("cutoff"), _acknowledged(publishing))
            .order_by(_n.id)
            .with_for_update(skip_locked=True))


@dataclass(frozen=True, slots=True)
class PurgeSummary:
    """What a purge would delete: payloads received before `cutoff`, and acknowledged
    notifications created before `notification_cutoff` (`notifications_kept`: older ones
    not acknowledged yet, which stay)."""

    cutoff: str
    payloads: int
    oldest: str | None
    newest: str | None
    notification_cutoff: str = ""
    notifications: int = 0
    notifications_kept: int = 0


@dataclass(frozen=True, slots=True)
class Purged:
    """What one pass deleted."""

    payloads: int = 0
    notifications: int = 0

    @property
    def total(self) -> int:
        return self.payloads + self.notifications


def cutoff_for(now: datetime, max_age_days: int) -> str:
    """The stored-timestamp text before which rows are old enough to purge."""
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


def summarize_notifications(session: SqlSession, cutoff: str, publishing: bool) -> tuple[int, int]:
    """(deletable, kept): old acknowledged notifications, and old ones not acknowledged."""
    row = session.fetchone(_notification_summary(publishing), {"cutoff": cutoff})
    old, acknowledged = row if row is not None else (0, 0)
    deletable = int(acknowledged or 0)
    return deletable, int(old or 0) - deletable


def purge_notification_batch(session: SqlSession, cutoff: str, limit: int, *, after: int,
                             publishing: bool) -> tuple[int, int | None]:
    """Delete up to `limit` deletable notifications with id > `after` in one transaction.

    Returns (deleted, last id looked at); the last id is None when there were no
    candidates left, i.e. the sweep is done. Rows locked by someone else are skipped
    (left for the next pass), so fewer than `limit` may go while the sweep goes on.
    """
    session.begin()
    try:
        params: dict[str, object] = {"cutoff": cutoff, "after": after}
        keys = [int(row[0]) for row in
                session.fetchall(_notification_candidates(limit, publishing), params)]
        locked: list[int] = []
        if keys:
            locked = [int(row[0]) for row in session.fetchall(
                _notification_lock(publishing),
                {"cutoff": cutoff, "lo": keys[0], "hi": keys[-1]})]
            session.executemany(_delete_notification, [{"pk": key} for key in sorted(locked)])
        session.commit()
    except BaseException:
        with contextlib.suppress(StoreError):
            session.rollback()
        raise
    if len(keys) < limit:
        return len(locked), None
    return len(locked), keys[-1]


class RetentionJob:
    """Purges old payloads and old acknowledged notifications now and then; `run` is the
    background task, `run_once` one pass.

    `publishing`: the gateway publishes notifications to MQTT (`[mqtt] url` set); then a
    published notification may go even if it was never pulled.
    """

    def __init__(self, store: Store, settings: RetentionSection, *, publishing: bool = False,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.settings = settings
        self.publishing = publishing
        self.clock = clock
        self._stopping = threading.Event()

    def cutoff(self) -> str:
        return cutoff_for(self.clock(), self.settings.payload_max_age_days)

    def notification_cutoff(self) -> str:
        return cutoff_for(self.clock(), self.settings.notification_max_age_days)

    def summary(self) -> PurgeSummary:
        notification_cutoff = self.notification_cutoff()
        session = self.store.open_session()
        try:
            payloads = summarize(session, self.cutoff())
            deletable, kept = summarize_notifications(session, notification_cutoff,
                                                      self.publishing)
        finally:
            session.close()
        return replace(payloads, notification_cutoff=notification_cutoff,
                       notifications=deletable, notifications_kept=kept)

    def run_once(self) -> int:
        """One pass (see `purge`); returns how many rows went, payloads and notifications."""
        return self.purge().total

    def purge(self) -> Purged:
        """Delete every payload and every acknowledged notification past its age, batch by
        batch, pausing between batches."""
        cutoff, notification_cutoff = self.cutoff(), self.notification_cutoff()
        limit = self.settings.batch_size
        payloads = notifications_deleted = 0
        session = self.store.open_session()
        try:
            while not self._stopping.is_set():
                started = time.perf_counter()
                deleted = purge_batch(session, cutoff, limit)
                payloads += deleted
                if deleted < limit:
                    break
                self._pause("message_payloads", deleted, started)
            after = 0
            while not self._stopping.is_set():
                started = time.perf_counter()
                deleted, last = purge_notification_batch(
                    session, notification_cutoff, limit, after=after, publishing=self.publishing)
                notifications_deleted += deleted
                if last is None:
                    break
                after = last
                self._pause("notifications", deleted, started)
        finally:
            session.close()
        if payloads or notifications_deleted:
            log.info("retention_purged", payloads=payloads, notifications=notifications_deleted,
                     cutoff=cutoff, notification_cutoff=notification_cutoff)
        return Purged(payloads, notifications_deleted)

    def _pause(self, table: str, deleted: int, started: float) -> None:
        log.debug("retention_batch", table=table, deleted=deleted,
                  seconds=round(time.perf_counter() - started, 4))
        if self.settings.pause_ms:
            self._stopping.wait(self.settings.pause_ms / 1000)

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
