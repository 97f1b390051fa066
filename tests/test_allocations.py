"""Counters allocated per transaction (adapters/sql/allocations.py): notification Seqs
(every backend) and SQLite's registration numbers are read once per transaction, handed
out from memory and written back before COMMIT — and stay gap-free, in order and never
repeated: across failed messages (savepoints), across batches, after rollbacks, and
across two nodes sharing one PostgreSQL database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.errors import StoreError
from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.sql.allocations import Allocations, CounterTable
from adapters.sql.session import SqlSession
from adapters.sqlite.store import COUNTERS
from adapters.store import Store, open_store
from adapters.tables.outbox import notifications, recipient_sequences
from gateway.writer import GroupCommitWriter
from protocol.errors import BusinessRuleViolation, rule_violation
from tests.store.backends import empty_tables, pg_database

AT = "2026-12-03T10:15:00.000000Z"
RECIPIENTS = ("BRK-0001", "TRD-0001", "CAR-0001")


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (f"sqlite:///{tmp_path / 'alloc.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    store = open_store(url)
    store.prepare()
    empty_tables(store)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def session(store: Store) -> Iterator[SqlSession]:
    session = store.open_session()
    try:
        yield session
    finally:
        session.close()


def notify(uow: SqlUnitOfWork, recipient: str = "BRK-0001") -> int:
    return uow.outbox.add(recipient_id=recipient, at=AT, reference="AZ-DEC-2026-0000001",
                          kind="DECLARATION", status="REGISTERED")


def committed_seqs(store: Store, recipient: str) -> list[int]:
    """The recipient's committed Seqs, in the order their rows were inserted."""
    return [int(seq) for (seq,) in read(store, sa.select(notifications.c.seq)
                                        .where(notifications.c.recipient_id == recipient)
                                        .order_by(notifications.c.id))]


def last_seq_row(store: Store, recipient: str) -> int | None:
    rows = read(store, sa.select(recipient_sequences.c.last_seq)
                .where(recipient_sequences.c.recipient_id == recipient))
    return int(rows[0][0]) if rows else None


def read(store: Store, stmt: sa.Select[Any]) -> list[tuple[Any, ...]]:
    session = store.open_session()
    try:
        return session.fetchall(stmt)
    finally:
        session.close()


# -- the bookkeeping ---------------------------------------------------------------------------

TABLE = CounterTable(recipient_sequences, key="recipient_id", value="last_seq")


def test_a_rolled_back_savepoint_gives_its_numbers_back() -> None:
    a = Allocations()
    a.load(TABLE, "R", 5)
    assert a.next(TABLE, "R") == 6
    a.savepoint()
    assert [a.next(TABLE, "R"), a.next(TABLE, "R")] == [7, 8]
    a.rollback_to_savepoint()
    a.release_savepoint()
    assert a.next(TABLE, "R") == 7
    assert a.take() == {TABLE: [{"alloc_key": "R", "alloc_value": 7}]}
    assert a.tables == set()


def test_a_write_back_undone_by_rollback_to_is_due_again() -> None:
    a = Allocations()
    a.load(TABLE, "R", 0)
    a.next(TABLE, "R")
    a.savepoint()
    a.next(TABLE, "R")
    assert a.take() == {TABLE: [{"alloc_key": "R", "alloc_value": 2}]}  # the row now holds 2
    a.rollback_to_savepoint()  # … and the database put it back to 0
    assert a.tables == {"recipient_sequences"}
    assert a.take() == {TABLE: [{"alloc_key": "R", "alloc_value": 1}]}


def test_a_key_first_read_inside_a_rolled_back_savepoint_is_read_again() -> None:
    a = Allocations()
    a.savepoint()
    assert a.unknown(TABLE, ["R", "S", "R"]) == ["R", "S"]
    a.load(TABLE, "R", 3)
    a.next(TABLE, "R")
    a.rollback_to_savepoint()
    assert a.unknown(TABLE, ["R"]) == ["R"]
    assert a.tables == set() and a.take() == {}


def test_the_end_of_the_transaction_forgets_everything() -> None:
    a = Allocations()
    a.load(TABLE, "R", 3)
    a.next(TABLE, "R")
    a.clear()
    assert a.last(TABLE, "R") is None and a.take() == {}


# -- in the writer's transaction, on SQLite and PostgreSQL -----------------------------------


async def test_seq_stays_gap_free_and_in_order_when_a_message_in_the_middle_fails(
        store: Store) -> None:
    def apply(uow: SqlUnitOfWork, job: tuple[str, bool]) -> list[int]:
        name, fails = job
        seqs = [notify(uow, r) for r in RECIPIENTS]
        if fails:
            raise rule_violation("TEST", f"{name} fails after taking {seqs}")
        return seqs

    batches: list[int] = []
    writer = GroupCommitWriter(store, apply, max_batch=20, max_wait_seconds=0.2,
                               on_batch=lambda size, _: batches.append(size))
    writer.start()
    jobs = [("m1", False), ("m2", False), ("m3", True), ("m4", False), ("m5", True)]
    results = await asyncio.gather(*(writer.submit(job) for job in jobs))
    await writer.stop()

    assert batches == [5]
    assert results[0] == [1, 1, 1] and results[1] == [2, 2, 2] and results[3] == [3, 3, 3]
    assert isinstance(results[2], BusinessRuleViolation)
    assert isinstance(results[4], BusinessRuleViolation)
    for recipient in RECIPIENTS:
        assert committed_seqs(store, recipient) == [1, 2, 3]
        assert last_seq_row(store, recipient) == 3


def test_numbers_go_on_in_the_next_transaction(session: SqlSession, store: Store) -> None:
    uow = SqlUnitOfWork(session)
    for expected in ([1, 2], [3, 4]):
        session.begin()
        assert [notify(uow), notify(uow)] == expected
        session.commit()
    assert committed_seqs(store, "BRK-0001") == [1, 2, 3, 4]
    assert last_seq_row(store, "BRK-0001") == 4


def test_a_rolled_back_transaction_discards_its_numbers(session: SqlSession,
                                                        store: Store) -> None:
    uow = SqlUnitOfWork(session)
    session.begin()
    notify(uow)
    session.commit()
    session.begin()
    assert [notify(uow), notify(uow, "NEW-0001")] == [2, 1]
    session.rollback()
    session.begin()
    assert [notify(uow), notify(uow, "NEW-0001")] == [2, 1]
    session.commit()
    assert committed_seqs(store, "BRK-0001") == [1, 2]
    assert committed_seqs(store, "NEW-0001") == [1]


class _FailingCommit:
    """The session's connection, whose next COMMIT fails (a lost connection, a full disk)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def commit(self) -> None:
        raise StoreError("commit failed")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def test_a_failed_commit_discards_its_numbers(session: SqlSession, store: Store) -> None:
    uow = SqlUnitOfWork(session)
    session.begin()
    notify(uow)
    session.commit()
    real = session.connection
    session.connection = _FailingCommit(real)
    session.begin()
    assert notify(uow) == 2
    with pytest.raises(StoreError):
        session.commit()
    session.connection = real
    session.rollback()
    session.begin()
    assert notify(uow) == 2
    session.commit()
    assert committed_seqs(store, "BRK-0001") == [1, 2]


def test_reads_in_the_transaction_see_the_numbers_handed_out(session: SqlSession) -> None:
    uow = SqlUnitOfWork(session)
    session.begin()
    assert [notify(uow) for _ in range(3)] == [1, 2, 3]
    assert uow.outbox.lock_stream("BRK-0001") == 3  # answered from memory
    # Any other statement naming the table finds the row written back first.
    assert session.scalar(sa.select(recipient_sequences.c.last_seq)) == 3
    assert notify(uow) == 4
    assert session.scalar(sa.text("SELECT last_seq FROM recipient_sequences")) == 4
    session.commit()


def test_a_write_back_undone_by_a_failed_message_is_written_again(session: SqlSession,
                                                                   store: Store) -> None:
    uow = SqlUnitOfWork(session)
    session.begin()
    session.savepoint("msg")
    assert notify(uow) == 1
    session.release("msg")
    session.savepoint("msg")
    assert notify(uow) == 2
    assert session.scalar(sa.select(recipient_sequences.c.last_seq)) == 2  # written back …
    session.rollback_to("msg")  # … and undone with the failed message
    session.release("msg")
    assert session.scalar(sa.select(recipient_sequences.c.last_seq)) == 1
    assert uow.outbox.lock_stream("BRK-0001") == 1
    session.commit()
    assert last_seq_row(store, "BRK-0001") == 1
    assert committed_seqs(store, "BRK-0001") == [1]


def test_a_first_notification_rolled_back_takes_its_row_with_it(session: SqlSession,
                                                                store: Store) -> None:
    uow = SqlUnitOfWork(session)
    session.begin()
    session.savepoint("msg")
    assert notify(uow, "NEW-0001") == 1  # INSERTs the recipient's row
    session.rollback_to("msg")
    session.release("msg")
    assert uow.outbox.lock_stream("NEW-0001") == 0
    session.savepoint("msg")
    assert notify(uow, "NEW-0001") == 1  # INSERTs it again
    session.release("msg")
    session.commit()
    assert last_seq_row(store, "NEW-0001") == 1


def test_sqlite_registration_numbers_are_allocated_per_transaction(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'numbers.db'}")
    store.prepare()
    session = store.open_session()
    try:
        uow = SqlUnitOfWork(session)
        session.begin()
        assert uow.next_number("declaration") == 1
        session.savepoint("msg")
        assert uow.next_number("declaration") == 2
        session.rollback_to("msg")  # the failed message's number is given out again
        session.release("msg")
        assert [uow.next_number("declaration"), uow.next_number("offense")] == [2, 1]
        session.commit()
        session.begin()
        assert uow.next_number("declaration") == 3
        session.rollback()
        session.begin()
        assert uow.next_number("declaration") == 3
        session.commit()
        rows = session.fetchall(sa.select(COUNTERS.table.c.name, COUNTERS.table.c.value)
                                .where(COUNTERS.table.c.value > 0))
        assert dict(rows) == {"declaration_number_seq": 3, "offense_number_seq": 1}
    finally:
        session.close()
        store.close()


# -- two nodes on one PostgreSQL database -----------------------------------------------------


@pytest.mark.postgres
async def test_two_nodes_never_hand_out_the_same_seq(pg_url: str) -> None:
    """Two gateways (two stores, two writers) notify the same recipients at once, some
    messages failing after taking their numbers: no Seq is handed out twice, each
    recipient's committed Seqs are 1..N, and they were committed in Seq order."""
    nodes = [open_store(pg_url), open_store(pg_url)]
    empty_tables(nodes[0])

    def apply(uow: SqlUnitOfWork, job: int) -> list[int]:
        seqs = [notify(uow, r) for r in RECIPIENTS]
        if job % 5 == 3:
            raise rule_violation("TEST", "fails after taking its numbers")
        return seqs

    writers = [GroupCommitWriter(store, apply, max_batch=7, max_wait_seconds=0.001)
               for store in nodes]
    try:
        for writer in writers:
            writer.start()
        jobs = range(80)
        results = await asyncio.gather(*(writers[job % 2].submit(job) for job in jobs))
        for writer in writers:
            await writer.stop()
        accepted = [r for r in results if isinstance(r, list)]
        assert len(accepted) == 80 - 16, results  # a first-notification race is retried
        for i, recipient in enumerate(RECIPIENTS):
            taken = sorted(seqs[i] for seqs in accepted)
            assert taken == list(range(1, len(accepted) + 1))
            assert committed_seqs(nodes[0], recipient) == taken  # inserted in Seq order
            assert last_seq_row(nodes[0], recipient) == len(accepted)
    finally:
        for store in nodes:
            store.close()
