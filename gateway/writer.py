"""Group commit: one writer thread applies batches of messages in one transaction each.

The event loop hands each prepared message to `GroupCommitWriter.submit` and
awaits its outcome. The writer thread takes whatever has queued up (at most
`max_batch`, waiting at most `max_wait` for more), opens one transaction and
runs every message inside its own savepoint, so that a message that fails —
a business rule or a bug — rolls back only its own effects while its
neighbours go on (ARCHITECTURE invariant 2). Messages are applied in arrival
order and see the effects of those before them (invariant 3). Outcomes are
handed back to the loop only after COMMIT returned (invariant 1).

When the store fails, every message of the batch gets `UNAVAILABLE` (nothing
of it was committed); the writer reconnects on the next batch by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from adapters.errors import StoreConflict, StoreError, StoreUnavailable
from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.sql.session import SqlSession
from adapters.store import Store
from protocol.errors import InternalError, UamsError, Unavailable

log = structlog.get_logger("uams.writer")

#: What the writer runs for each job inside its savepoint.
ApplyFn = Callable[[SqlUnitOfWork, Any], Any]
#: What the writer runs once per batch, before the first job: batch lookups.
PrefetchFn = Callable[[SqlUnitOfWork, list[Any]], None]


@dataclass(slots=True)
class _Pending:
    job: Any
    future: asyncio.Future[Any]
    queued_at: float = field(default_factory=time.perf_counter)


_STOP = object()


@dataclass(slots=True)
class WriterStats:
    batches: int = 0
    messages: int = 0
    failed_batches: int = 0
    last_batch_size: int = 0
    last_commit_seconds: float = 0.0


class GroupCommitWriter:
    def __init__(self, store: Store, apply: ApplyFn, *, max_batch: int = 500,
                 max_wait_seconds: float = 0.002, queue_max: int = 10_000,
                 on_batch: Callable[[int, float], None] | None = None,
                 prefetch: PrefetchFn | None = None) -> None:
        self.store = store
        self.apply = apply
        self.prefetch = prefetch
        self.max_batch = max_batch
        self.max_wait = max_wait_seconds
        self.stats = WriterStats()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_max)
        self._thread: threading.Thread | None = None
        self._session: SqlSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_batch = on_batch

    # loop side ------------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="uams-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Any) -> asyncio.Future[Any]:
        """Queue a job; the future resolves to its outcome or to the `UamsError` rejecting it.

        Errors are results, not exceptions: a future whose connection went away
        is never awaited, and must not log "exception never retrieved".
        """
        assert self._loop is not None, "start() the writer first"
        future: asyncio.Future[Any] = self._loop.create_future()
        try:
            self._queue.put_nowait(_Pending(job, future))
        except queue.Full:
            future.set_result(Unavailable())
        return future

    async def stop(self) -> None:
        """Apply everything already queued, then end the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._thread = None

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    # writer thread --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch, stop = self._collect(first)
                self._commit_batch(batch)
                if stop:
                    return
        finally:
            if self._session is not None:
                self._session.close()
                self._session = None

    def _collect(self, first: _Pending) -> tuple[list[_Pending], bool]:
        batch = [first]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    def _commit_batch(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        results: list[Any] = []
        try:
            session = self._session_or_connect()
            uow = SqlUnitOfWork(session)
            session.begin()
            self._prefetch(uow, batch)
            for pending in batch:
                results.append(self._apply_one(session, uow, pending.job))
            session.commit()
        except StoreError as exc:
            self._drop_session()
            self.stats.failed_batches += 1
            log.warning("store_batch_failed", error=type(exc).__name__, detail=str(exc)[:200],
                        batch=len(batch))
            results = [Unavailable() for _ in batch]
        elapsed = time.perf_counter() - started
        self.stats.batches += 1
        self.stats.messages += len(batch)
        self.stats.last_batch_size = len(batch)
        self.stats.last_commit_seconds = elapsed
        if self._on_batch is not None:
            self._on_batch(len(batch), elapsed)
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(_deliver, batch, results)

    def _prefetch(self, uow: SqlUnitOfWork, batch: list[_Pending]) -> None:
        """Batch lookups; a bug there costs speed, never a message (handlers look up again)."""
        if self.prefetch is None:
            return
        try:
            self.prefetch(uow, [pending.job for pending in batch])
        except StoreError:
            raise
        except Exception:
            log.exception("prefetch_failed", incident=_incident_id())
            uow.forget_prefetched()

    def _apply_one(self, session: SqlSession, uow: SqlUnitOfWork, job: Any) -> Any:
        for attempt in (1, 2):
            session.savepoint("msg")
            try:
                outcome = self.apply(uow, job)
            except StoreConflict:
                # Another node registered the same key meanwhile: look again once, in the store.
                session.rollback_to("msg")
                session.release("msg")
                uow.forget_prefetched()
                if attempt == 2:
                    return InternalError()
                continue
            except StoreUnavailable:
                raise
            except UamsError as error:
                session.rollback_to("msg")
                session.release("msg")
                return error
            except Exception:  # a bug, or a StoreError caused by this message alone
                incident = _incident_id()
                log.exception("handler_failed", incident=incident)
                session.rollback_to("msg")
                session.release("msg")
                return InternalError()
            session.release("msg")
            return outcome
        return InternalError()

    def _session_or_connect(self) -> SqlSession:
        if self._session is None:
            self._session = self.store.open_session()
        return self._session

    def _drop_session(self) -> None:
        if self._session is not None:
            with contextlib.suppress(StoreError):
                self._session.rollback()
            self._session.close()
            self._session = None


def _incident_id() -> str:
    return uuid.uuid4().hex[:12]


def _deliver(batch: list[_Pending], results: list[Any]) -> None:
    for pending, result in zip(batch, results, strict=True):
        if not pending.future.done():
            pending.future.set_result(result)
