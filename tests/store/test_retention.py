"""Retention: old payloads and old acknowledged notifications go in small batches,
everything else stays, ingestion goes on, pull and publishing carry on where they were,
`db purge --dry-run` only counts, and the gateway runs the job in the background."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.repositories.outbox import Published, SqlOutboxRelay
from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.store import Store, open_store
from adapters.tables.core import message_payloads, messages, status_events
from adapters.tables.outbox import notifications
from gateway import retention
from gateway.app import start_gateway
from gateway.cli import main
from gateway.config import RetentionSection, SettingError, load_config
from gateway.retention import Purged, RetentionJob
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


def job(store: Store, *, publishing: bool = False, **settings: Any) -> RetentionJob:
    values = {"enabled": True, "payload_max_age_days": 30, "batch_size": 4, "pause_ms": 0.0,
              **settings}
    return RetentionJob(store, RetentionSection(**values), publishing=publishing,
                        clock=lambda: NOW)


def notify(store: Store, recipient: str, at: str, n: int = 1) -> list[int]:
    """`n` notifications for `recipient` at `at`; their Seq numbers."""
    seqs: list[int] = in_transaction(store, lambda uow: [
        uow.outbox.add(recipient_id=recipient, at=at, reference=f"R-{recipient}-{i}",
                       kind="DECLARATION", status="REGISTERED") for i in range(n)])
    return seqs


def pulled_up_to(store: Store, recipient: str, up_to: int) -> None:
    in_transaction(store, lambda uow: uow.outbox.acknowledge(recipient, up_to))


def publish(store: Store, recipient: str, count_: int) -> None:
    """The broker acknowledges the recipient's next `count_` notifications."""
    session = store.open_session()
    try:
        relay = SqlOutboxRelay(session)
        relay.begin_round()
        claim = relay.claim(recipient, count_)
        assert claim is not None and len(claim.notifications) == count_
        relay.end_round([Published(recipient, claim.first_seq, claim.notifications[-1].seq)])
    finally:
        session.close()


def pending(store: Store, recipient: str, after: int = 0) -> list[int]:
    """What a pull with AckUpTo = `after` answers: Seq numbers, in order."""
    rows = in_transaction(store, lambda uow: uow.outbox.unacknowledged(recipient, after, 100))
    return [n.seq for n in rows]


def stored(store: Store, recipient: str) -> list[int]:
    rows = in_transaction(store, lambda uow: uow.db.fetchall(
        sa.select(notifications.c.seq).where(notifications.c.recipient_id == recipient)
        .order_by(notifications.c.seq)))
    return [int(r[0]) for r in rows]


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
        notify(store, "BRK-0001", OLD, 4)
        pulled_up_to(store, "BRK-0001", 3)
        monkeypatch.setenv("UAMS_STORE_URL", url)
        monkeypatch.setenv("UAMS_RETENTION_PAYLOAD_MAX_AGE_DAYS", "30")
        monkeypatch.chdir(Path(__file__).resolve().parents[2])
        assert main(["db", "purge", "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "would delete 5 payloads" in out
        assert "would delete 3 notifications (pulled)" in out
        assert "1 as old but not acknowledged are kept" in out
        assert counts(store)[1] == 7
        assert stored(store, "BRK-0001") == [1, 2, 3, 4]
        assert main(["db", "purge", "--older-than-days", "100000"]) == 0
        assert "deleted 0 payloads" in capsys.readouterr().out
        assert main(["db", "purge"]) == 0
        out = capsys.readouterr().out
        assert "deleted 5 payloads" in out
        assert "deleted 0 notifications" in out  # the first run took them
        assert counts(store) == (7, 2, 5)
        assert stored(store, "BRK-0001") == [4]
    finally:
        store.close()


def test_db_purge_counts_published_notifications_when_mqtt_is_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'purge.db'}"
    store = open_store(url)
    store.prepare()
    try:
        notify(store, "TRD-0001", OLD, 3)
        publish(store, "TRD-0001", 2)
        monkeypatch.setenv("UAMS_STORE_URL", url)
        monkeypatch.chdir(Path(__file__).resolve().parents[2])
        assert main(["db", "purge", "--dry-run"]) == 0
        assert "would delete 0 notifications (pulled)" in capsys.readouterr().out
        monkeypatch.setenv("UAMS_MQTT_URL", "mqtt://127.0.0.1:1883")
        assert main(["db", "purge", "--dry-run"]) == 0
        assert "would delete 2 notifications (pulled or published)" in capsys.readouterr().out
        assert main(["db", "purge"]) == 0
        assert "deleted 2 notifications" in capsys.readouterr().out
        assert stored(store, "TRD-0001") == [3]
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


# -- notifications ----------------------------------------------------------------------------


def test_old_pulled_notifications_go_the_rest_stays(store: Store) -> None:
    notify(store, "BRK-0001", OLD, 10)       # Seq 1..10
    notify(store, "BRK-0001", RECENT, 3)     # Seq 11..13
    pulled_up_to(store, "BRK-0001", 12)      # old ones: 1..10 acknowledged
    notify(store, "TRD-0001", OLD, 3)        # never pulled ...
    publish(store, "TRD-0001", 3)            # ... only published, and MQTT is off: kept
    notify(store, "CAR-0001", OLD, 2)
    pulled_up_to(store, "CAR-0001", 2)       # everything of this recipient goes
    purge = job(store)                       # batch_size 4: several batches
    summary = purge.summary()
    assert (summary.notifications, summary.notifications_kept) == (12, 3)
    assert summary.notification_cutoff == "2026-11-03T12:00:00.000000Z"

    assert purge.purge() == Purged(payloads=0, notifications=12)
    assert stored(store, "BRK-0001") == [11, 12, 13]  # young ones stay, pulled or not
    assert stored(store, "TRD-0001") == [1, 2, 3]     # never acknowledged: kept, however old
    assert stored(store, "CAR-0001") == []
    assert purge.purge() == Purged()

    # pull goes on: the unacknowledged rows, in order, with their Seq
    assert pending(store, "BRK-0001", after=12) == [13]
    assert pending(store, "TRD-0001") == [1, 2, 3]
    # numbering goes on from recipient_sequences, even for a recipient with no rows left
    assert notify(store, "BRK-0001", RECENT) == [14]
    assert notify(store, "CAR-0001", RECENT) == [3]
    assert notify(store, "TRD-0001", RECENT) == [4]
    assert pending(store, "BRK-0001", after=12) == [13, 14]
    assert pending(store, "CAR-0001", after=2) == [3]
    assert in_transaction(store, lambda uow: uow.outbox.lock_stream("CAR-0001")) == 3


def test_published_notifications_go_while_the_gateway_publishes(store: Store) -> None:
    notify(store, "BRK-0001", OLD, 6)        # Seq 1..6
    notify(store, "BRK-0001", RECENT, 1)     # Seq 7
    publish(store, "BRK-0001", 3)            # 1..3 published
    pulled_up_to(store, "BRK-0001", 4)       # 1..4 pulled (4 not yet published)
    notify(store, "TRD-0001", OLD, 3)        # a participant that only subscribes
    publish(store, "TRD-0001", 3)

    assert job(store).purge().notifications == 4               # MQTT off: pulled ones only
    assert stored(store, "BRK-0001") == [5, 6, 7]
    assert stored(store, "TRD-0001") == [1, 2, 3]
    assert job(store, publishing=True).purge().notifications == 3  # and published ones
    assert stored(store, "TRD-0001") == []
    assert stored(store, "BRK-0001") == [5, 6, 7]  # neither pulled nor published, or young

    # the relay starts at the lowest remaining unpublished row; pull goes on after AckUpTo
    session = store.open_session()
    try:
        relay = SqlOutboxRelay(session)
        relay.begin_round()
        assert relay.recipients_with_backlog("", 10) == ["BRK-0001"]
        claim = relay.claim("BRK-0001", 10)
        assert claim is not None and [n.seq for n in claim.notifications] == [5, 6, 7]
        relay.abandon_round()
    finally:
        session.close()
    assert pending(store, "BRK-0001", after=4) == [5, 6, 7]
    assert notify(store, "TRD-0001", RECENT) == [4]
    assert pending(store, "TRD-0001") == [4]


def test_notification_purge_skips_rows_locked_elsewhere(store: Store) -> None:
    """A relay holding a claim (PostgreSQL: row locks) never makes the purge wait: the
    claimed rows are left for the next pass, the others go."""
    notify(store, "BRK-0001", OLD, 3)
    notify(store, "TRD-0001", OLD, 3)
    pulled_up_to(store, "BRK-0001", 3)
    pulled_up_to(store, "TRD-0001", 3)
    purge = job(store)
    session = store.open_session()
    try:
        relay = SqlOutboxRelay(session)
        relay.begin_round()
        claim = relay.claim("BRK-0001", 10)  # pulled but not yet published: claimable
        assert claim is not None
        result: list[Purged] = []
        purging = threading.Thread(target=lambda: result.append(purge.purge()))
        purging.start()
        purging.join(10)
        assert not purging.is_alive(), "the purge waited for the relay's claim"
        if relay.row_locks:
            assert result == [Purged(notifications=3)]
            assert stored(store, "BRK-0001") == [1, 2, 3]
            relay.end_round([Published("BRK-0001", 1, 3)])
        else:  # SQLite: the relay holds no locks while it publishes
            assert result == [Purged(notifications=6)]
            relay.abandon_round()
    finally:
        session.close()
    assert purge.purge().notifications == (3 if relay.row_locks else 0)
    assert stored(store, "BRK-0001") == stored(store, "TRD-0001") == []
    assert notify(store, "BRK-0001", RECENT) == [4]


def test_notification_max_age_setting() -> None:
    assert RetentionSection().notification_max_age_days == 30
    config = load_config(None, {"UAMS_RETENTION_NOTIFICATION_MAX_AGE_DAYS": "7"})
    assert config.retention.notification_max_age_days == 7
    with pytest.raises(SettingError):
        RetentionSection(notification_max_age_days=0)
