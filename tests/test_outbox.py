"""The outbox in the store: gap-free per-recipient numbers, pull acknowledgement, and the
relay's claims — including what two nodes on one PostgreSQL database do to each other."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa

from adapters.errors import StoreConflict
from adapters.repositories.outbox import Published, SqlOutboxRelay
from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.sql.session import SqlSession
from adapters.store import Store, open_store
from tests.store.backends import empty_tables, pg_database

T = TypeVar("T")
AT = "2026-12-03T10:15:00.000000Z"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (f"sqlite:///{tmp_path / 'outbox.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    store = open_store(url)
    store.prepare()
    empty_tables(store)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url)
    empty_tables(store)
    try:
        yield store
    finally:
        store.close()


def notify(uow: SqlUnitOfWork, recipient: str, reference: str = "AZ-DEC-2026-0000001") -> int:
    return uow.outbox.add(recipient_id=recipient, at=AT, reference=reference,
                          kind="DECLARATION", status="REGISTERED")


def committed(store: Store, work: Callable[[SqlUnitOfWork], T]) -> T:
    session = store.open_session()
    try:
        session.begin()
        result = work(SqlUnitOfWork(session))
        session.commit()
        return result
    finally:
        session.close()


def lock_timeout(session: SqlSession, ms: int = 2000) -> None:
    """Within the open transaction: fail instead of waiting longer for a row lock."""
    session.execute(sa.text(f"SET LOCAL lock_timeout = '{ms}ms'"))


def test_a_rolled_back_notification_leaves_no_gap(store: Store) -> None:
    session = store.open_session()
    try:
        uow = SqlUnitOfWork(session)
        session.begin()
        assert notify(uow, "BRK-0001") == 1
        session.savepoint("msg")
        assert notify(uow, "BRK-0001") == 2
        session.rollback_to("msg")  # that message failed: its number is given out again
        session.release("msg")
        assert notify(uow, "BRK-0001") == 2
        assert notify(uow, "TRD-0001") == 1
        session.commit()
    finally:
        session.close()
    rows = committed(store, lambda uow: uow.outbox.unacknowledged("BRK-0001", 0, 10))
    assert [n.seq for n in rows] == [1, 2]


def test_pull_marks_and_publish_marks_are_independent(store: Store) -> None:
    committed(store, lambda uow: [notify(uow, "BRK-0001") for _ in range(4)])
    assert committed(store, lambda uow: uow.outbox.acknowledge("BRK-0001", 3)) == 3
    session = store.open_session()
    try:
        relay = SqlOutboxRelay(session)
        relay.begin_round()
        claim = relay.claim("BRK-0001", 10)
        # Pulled rows are still published: an MQTT subscriber sees every Seq.
        assert claim is not None and [n.seq for n in claim.notifications] == [1, 2, 3, 4]
        assert relay.end_round([Published("BRK-0001", 1, 2)]) == 2
        assert relay.backlog() == 2
    finally:
        session.close()
    # ... and published rows are still pulled until the puller acknowledges them.
    rows = committed(store, lambda uow: uow.outbox.unacknowledged("BRK-0001", 0, 10))
    assert [n.seq for n in rows] == [4]


def test_relay_takes_turns_over_recipients(store: Store) -> None:
    committed(store, lambda uow: [notify(uow, r) for r in ("C-1", "A-1", "B-1", "A-1")])
    session = store.open_session()
    try:
        relay = SqlOutboxRelay(session)
        relay.begin_round()
        assert relay.recipients_with_backlog("", 2) == ["A-1", "B-1"]
        assert relay.recipients_with_backlog("B-1", 2) == ["C-1"]
        assert relay.claim("NOBODY", 5) is None
        relay.abandon_round()
    finally:
        session.close()


@pytest.mark.postgres
def test_a_claim_never_holds_up_the_writer(pg_store: Store) -> None:
    """While a relay owns a stream (row locks held for a publish round), status changes of
    that recipient commit without waiting, and are not part of the claim."""
    committed(pg_store, lambda uow: [notify(uow, "BRK-0001") for _ in range(3)])
    relay_session, writer = pg_store.open_session(), pg_store.open_session()
    try:
        relay = SqlOutboxRelay(relay_session)
        relay.begin_round()
        claim = relay.claim("BRK-0001", 10)
        assert claim is not None and claim.first_seq == 1
        writer.begin()
        lock_timeout(writer)
        assert notify(SqlUnitOfWork(writer), "BRK-0001") == 4
        writer.commit()
        assert relay.end_round([Published("BRK-0001", 1, 3)]) == 3
        relay.begin_round()
        later = relay.claim("BRK-0001", 10)
        assert later is not None and [n.seq for n in later.notifications] == [4]
        relay.abandon_round()
    finally:
        relay_session.close()
        writer.close()


@pytest.mark.postgres
def test_a_pull_in_progress_makes_the_relay_skip_not_wait(pg_store: Store) -> None:
    committed(pg_store, lambda uow: [notify(uow, "BRK-0001") for _ in range(3)])
    puller, relay_session = pg_store.open_session(), pg_store.open_session()
    try:
        puller.begin()
        uow = SqlUnitOfWork(puller)
        assert uow.outbox.lock_stream("BRK-0001") == 3
        assert uow.outbox.acknowledge("BRK-0001", 2) == 2  # row-locks seq 1 and 2
        relay = SqlOutboxRelay(relay_session)
        relay.begin_round()
        lock_timeout(relay_session, 500)
        assert relay.claim("BRK-0001", 10) is None  # the head is locked: skipped at once
        relay.abandon_round()
        puller.commit()
        relay.begin_round()
        claim = relay.claim("BRK-0001", 10)
        assert claim is not None and [n.seq for n in claim.notifications] == [1, 2, 3]
        relay.abandon_round()
    finally:
        puller.close()
        relay_session.close()


@pytest.mark.postgres
def test_first_notification_race_between_nodes_is_a_conflict(pg_store: Store) -> None:
    """Two nodes give a new recipient its first number at once: the second INSERT of its
    sequence row waits for the first commit, then fails with StoreConflict (the writer
    retries the message, and the retry gets number 2)."""
    first, second = pg_store.open_session(), pg_store.open_session()
    try:
        first.begin()
        assert notify(SqlUnitOfWork(first), "NEW-0001") == 1
        second.begin()
        second.savepoint("msg")
        with ThreadPoolExecutor(1) as pool:
            racing = pool.submit(notify, SqlUnitOfWork(second), "NEW-0001")
            with pytest.raises(TimeoutError):
                racing.result(timeout=0.3)  # waiting for the first node's commit
            first.commit()
            with pytest.raises(StoreConflict):
                racing.result(timeout=5)
        second.rollback_to("msg")
        assert notify(SqlUnitOfWork(second), "NEW-0001") == 2
        second.commit()
    finally:
        first.close()
        second.close()


def waiting_for_a_lock(store: Store, deadline_seconds: float = 10) -> None:
    """Return once some session of this database waits for a row lock."""
    session = store.open_session()
    try:
        deadline = time.monotonic() + deadline_seconds
        while not session.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")):
            assert time.monotonic() < deadline, "nobody is waiting for a lock"
            time.sleep(0.01)
    finally:
        session.close()


@pytest.mark.postgres
def test_a_second_node_takes_the_next_seq_after_the_first_commits(pg_store: Store) -> None:
    """Seqs are allocated in memory per transaction, but the first use of a recipient
    row-locks its sequence: another node waits for that commit and goes on from there."""
    committed(pg_store, lambda uow: notify(uow, "BRK-0001"))
    first, second = pg_store.open_session(), pg_store.open_session()
    try:
        first.begin()
        a = SqlUnitOfWork(first)
        assert [notify(a, "BRK-0001"), notify(a, "BRK-0001")] == [2, 3]
        second.begin()
        with ThreadPoolExecutor(1) as pool:
            racing = pool.submit(notify, SqlUnitOfWork(second), "BRK-0001")
            waiting_for_a_lock(pg_store)
            first.commit()
            assert racing.result(timeout=5) == 4
        second.commit()
    finally:
        first.close()
        second.close()
    rows = committed(pg_store, lambda uow: uow.outbox.unacknowledged("BRK-0001", 0, 10))
    assert [n.seq for n in rows] == [1, 2, 3, 4]


@pytest.mark.postgres
def test_pulls_of_one_participant_are_serialized_across_nodes(pg_store: Store) -> None:
    committed(pg_store, lambda uow: [notify(uow, "PRT-0001") for _ in range(4)])
    first, second = pg_store.open_session(), pg_store.open_session()
    entered = threading.Event()
    try:
        first.begin()
        a = SqlUnitOfWork(first)
        assert a.outbox.lock_stream("PRT-0001") == 4
        a.outbox.acknowledge("PRT-0001", 3)

        def second_pull() -> list[int]:
            second.begin()
            b = SqlUnitOfWork(second)
            b.outbox.lock_stream("PRT-0001")
            entered.set()
            seqs = [n.seq for n in b.outbox.unacknowledged("PRT-0001", 1, 10)]
            second.commit()
            return seqs

        with ThreadPoolExecutor(1) as pool:
            racing = pool.submit(second_pull)
            assert not entered.wait(0.3)  # blocked behind the first pull
            first.commit()
            # It then sees the first pull's acknowledgement: nothing already released.
            assert racing.result(timeout=5) == [4]
    finally:
        first.close()
        second.close()
