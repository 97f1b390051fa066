"""Retention: old payloads go in small batches, everything else stays, ingestion goes on,
`db purge --dry-run` only counts, and the gateway runs the job in the background."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.store import Store, open_store
from adapters.tables.core import message_payloads, messages, status_events
from gateway import retention
from gateway.app import start_gateway
from gateway.cli import main
from gateway.config import RetentionSection
from gateway.retention import RetentionJob
from tests.conftest import make_config
from tests.store.test_conformance import count, in_transaction, record

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
OLD = "2026-01-10T08:00:00.000000Z"     # older than 30 days at NOW
RECENT = "2026-12-01T08:00:00.000000Z"  # younger


def fill(store: Store, old: int, recent: int) -> None:
    def work(uow: SqlUnitOfWork) -> None:
        for n in range(old):
            record(uow, f"old-{n}", received_at=OLD)
            uow.events.append(object_kind="DECLARATION", reference=f"R-{n}", status="RELEASED",
                              at=OLD)
        for n in range(recent):
            record(uow, f"new-{n}", received_at=RECENT)

    in_transaction(store, work)


def counts(store: Store) -> tuple[int, int, int]:
    return in_transaction(store, lambda uow: (count(uow.db, messages),
                                              count(uow.db, message_payloads),
                                              count(uow.db, status_events)))


def job(store: Store, **settings: Any) -> RetentionJob:
    values = {"enabled": True, "payload_max_age_days": 30, "batch_size": 4, "pause_ms": 0.0,
              **settings}
    return RetentionJob(store, RetentionSection(**values), clock=lambda: NOW)


def test_purge_deletes_only_old_payloads(store: Store) -> None:
    fill(store, old=10, recent=3)
    purge = job(store)
    summary = purge.summary()
    assert (summary.payloads, summary.oldest, summary.newest) == (10, OLD, OLD)
    assert summary.cutoff == "2026-11-03T12:00:00.000000Z"
    assert purge.run_once() == 10
    assert counts(store) == (13, 3, 10)  # messages (idempotency) and history stay
    assert purge.run_once() == 0
    assert in_transaction(store, lambda uow: uow.messages.find("BRK-0001", "old-3")) is not None


def test_each_batch_is_its_own_short_transaction(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingestion commits between purge batches: the purge never holds the store for long.
    (SQLite, where every writer queues for the one write lock.)"""
    store = open_store(f"sqlite:///{tmp_path / 'busy.db'}", sqlite_synchronous="NORMAL")
    store.prepare()
    fill(store, old=300, recent=0)
    events: list[str] = []
    original = retention.purge_batch
    purging = threading.Event()

    def recorded(session: Any, cutoff: str, limit: int) -> int:
        deleted = original(session, cutoff, limit)
        assert deleted <= limit
        events.append("purge")
        return deleted

    monkeypatch.setattr(retention, "purge_batch", recorded)

    def ingest() -> None:
        session = store.open_session()
        n = 0
        try:
            purging.wait(10)
            while purging.is_set():
                session.begin()
                record(SqlUnitOfWork(session), f"live-{n}", received_at=RECENT)
                session.commit()
                events.append("ingest")
                n += 1
                time.sleep(0.002)  # a steady stream, not a tight loop hogging the lock
        finally:
            session.close()

    ingester = threading.Thread(target=ingest)
    ingester.start()
    purging.set()
    try:
        assert job(store, batch_size=20, pause_ms=5.0).run_once() == 300
    finally:
        purging.clear()
        ingester.join(30)
        store.close()
    first, last = events.index("purge"), len(events) - 1 - events[::-1].index("purge")
    assert events.count("purge") == 16  # 15 full batches and the empty one that ends it
    assert "ingest" in events[first:last]  # messages were committed while the purge ran


def test_db_purge_dry_run_then_purge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'purge.db'}"
    store = open_store(url)
    store.prepare()
    try:
        fill(store, old=5, recent=2)
        monkeypatch.setenv("UAMS_STORE_URL", url)
        monkeypatch.setenv("UAMS_RETENTION_PAYLOAD_MAX_AGE_DAYS", "30")
        monkeypatch.chdir(Path(__file__).resolve().parents[2])
        assert main(["db", "purge", "--dry-run"]) == 0
        assert "would delete 5 payloads" in capsys.readouterr().out
        assert counts(store)[1] == 7
        assert main(["db", "purge", "--older-than-days", "100000"]) == 0
        assert "deleted 0 payloads" in capsys.readouterr().out
        assert main(["db", "purge"]) == 0
        assert "deleted 5 payloads" in capsys.readouterr().out
        assert counts(store) == (7, 2, 5)
    finally:
        store.close()


async def test_gateway_purges_in_the_background(pki_dir: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'uams.db'}"
    store = open_store(url)
    store.prepare()
    fill(store, old=7, recent=0)  # OLD is far more than a day before today
    config = make_config(pki_dir, tmp_path, STORE_URL=url, RETENTION_ENABLED="true",
                         RETENTION_PAYLOAD_MAX_AGE_DAYS="1", RETENTION_BATCH_SIZE="3")
    gateway = await start_gateway(config)
    try:
        for _ in range(200):
            if counts(store)[1] == 0:
                break
            await asyncio.sleep(0.05)
        assert counts(store) == (7, 0, 7)
        assert any(t.get_name() == "retention" and not t.done() for t in gateway.background)
    finally:
        await gateway.stop()
        store.close()


def test_cutoff_text_sorts_like_stored_timestamps() -> None:
    cutoff = retention.cutoff_for(NOW, 30)
    assert cutoff == "2026-11-03T12:00:00.000000Z"
    assert OLD < cutoff < RECENT
