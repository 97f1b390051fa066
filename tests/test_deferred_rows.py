"""Deferred inserts keep the writer's guarantees: reads see every queued row, a failed
message takes only its own rows with it, COMMIT writes the rest."""

from __future__ import annotations

from pathlib import Path

from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.sqlite.store import SqliteStore


def _events(uow: SqlUnitOfWork, reference: str) -> list[str]:
    return [e.status for e in uow.events.history("DECLARATION", reference)]


def _session(tmp_path: Path) -> SqlUnitOfWork:
    store = SqliteStore(f"sqlite:///{tmp_path / 'deferred.db'}")
    store.prepare()
    return SqlUnitOfWork(store.open_session())


def _append(uow: SqlUnitOfWork, status: str) -> None:
    uow.events.append(object_kind="DECLARATION", reference="D-1", status=status,
                      at="2026-12-03T10:00:00.000000Z")


def test_a_read_sees_rows_queued_by_earlier_messages_and_its_own(tmp_path: Path) -> None:
    uow = _session(tmp_path)
    db = uow.db
    db.begin()
    db.savepoint("msg")
    _append(uow, "REGISTERED")
    db.release("msg")
    db.savepoint("msg")
    _append(uow, "RELEASED")
    assert _events(uow, "D-1") == ["REGISTERED", "RELEASED"]
    db.release("msg")
    db.commit()
    assert _events(uow, "D-1") == ["REGISTERED", "RELEASED"]


def test_a_failed_message_drops_its_rows_and_keeps_those_before_it(tmp_path: Path) -> None:
    uow = _session(tmp_path)
    db = uow.db
    db.begin()
    db.savepoint("msg")
    _append(uow, "REGISTERED")           # message 1, succeeds
    db.release("msg")
    db.savepoint("msg")
    _append(uow, "UNDER_CONTROL")        # message 2 …
    assert _events(uow, "D-1") == ["REGISTERED", "UNDER_CONTROL"]  # … written by this read
    db.rollback_to("msg")                # … and fails: the database forgets both rows
    db.release("msg")
    db.savepoint("msg")
    _append(uow, "RELEASED")             # message 3, succeeds
    db.release("msg")
    db.commit()
    assert _events(uow, "D-1") == ["REGISTERED", "RELEASED"]


def test_rollback_of_the_whole_transaction_forgets_queued_rows(tmp_path: Path) -> None:
    uow = _session(tmp_path)
    db = uow.db
    db.begin()
    _append(uow, "REGISTERED")
    db.rollback()
    db.begin()
    db.commit()
    assert _events(uow, "D-1") == []


def _traced(uow: SqlUnitOfWork) -> list[str]:
    """The SQL statements SQLite runs from now on."""
    statements: list[str] = []
    uow.db.connection.raw.set_trace_callback(statements.append)
    return statements


def test_a_message_that_only_reads_and_queues_needs_no_savepoint_statement(
        tmp_path: Path) -> None:
    uow = _session(tmp_path)
    db = uow.db
    db.begin()
    statements = _traced(uow)
    db.savepoint("msg")
    _append(uow, "REGISTERED")
    db.release("msg")
    db.savepoint("msg")
    _append(uow, "NEVER")
    db.rollback_to("msg")                # failed before writing anything itself
    db.release("msg")
    assert not [s for s in statements if "SAVEPOINT" in s]
    db.commit()
    assert _events(uow, "D-1") == ["REGISTERED"]


def test_a_message_that_writes_gets_its_savepoint_before_the_write(tmp_path: Path) -> None:
    uow = _session(tmp_path)
    db = uow.db
    db.begin()
    _append(uow, "REGISTERED")           # queued before the message
    statements = _traced(uow)
    db.savepoint("msg")
    _append(uow, "UNDER_CONTROL")
    assert _events(uow, "D-1") == ["REGISTERED", "UNDER_CONTROL"]  # this read writes the queue
    db.rollback_to("msg")
    db.release("msg")
    writes = [s.split()[0] for s in statements if s.split()[0] in ("SAVEPOINT", "INSERT")]
    assert writes[:2] == ["SAVEPOINT", "INSERT"], "the savepoint came before the first write"
    db.commit()
    assert _events(uow, "D-1") == ["REGISTERED"]
