"""One set of tests, run against every backend: the store keeps its promises the same way.

Writes and reads of each kind of row, the idempotency key, registration
numbers, savepoint isolation inside a transaction, status history, the outbox
(sequence per recipient, pull acknowledgement, claiming for the publisher).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.errors import StoreConflict
from adapters.repositories.outbox import Published, SqlOutboxRelay
from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.sql.session import SqlSession
from adapters.store import Store
from adapters.tables.core import message_payloads, messages, status_events
from protocol.bodies.declaration import read_declaration
from protocol.envelope import body_element
from protocol.xml import parse_document
from tests.builders import declaration, goods_item

AT = "2026-12-03T10:15:00.000000Z"


def in_transaction(store: Store, work: Callable[[SqlUnitOfWork], Any]) -> Any:
    """Run `work` in one committed transaction on a fresh session."""
    session = store.open_session()
    try:
        session.begin()
        try:
            result = work(SqlUnitOfWork(session))
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return result
    finally:
        session.close()


def record(uow: SqlUnitOfWork, message_id: str, *, sender: str = "BRK-0001",
           payload: bytes = b"<Envelope/>", received_at: str = AT) -> int:
    return uow.messages.record(sender_id=sender, message_id=message_id,
                               message_type="CustomsDeclaration", body_digest="d" * 64,
                               received_at=received_at, object_kind=None, reference=None,
                               payload=payload)


def count(session: SqlSession, table: sa.Table) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(table)))


# -- writes and reads -------------------------------------------------------------------------


def test_message_and_payload_round_trip(store: Store) -> None:
    big = b"<Envelope>" + bytes(range(256)) * 4096 + b"</Envelope>"  # 1 MiB, every byte value
    pk = in_transaction(store, lambda uow: record(uow, "m-1", payload=big))
    in_transaction(store, lambda uow: uow.messages.link(pk, "DECLARATION", "AZ-DEC-2026-0000001"))

    def read(uow: SqlUnitOfWork) -> tuple[Any, Any]:
        prior = uow.messages.find("BRK-0001", "m-1")
        stored = uow.db.scalar(sa.select(message_payloads.c.payload)
                               .where(message_payloads.c.message_pk == sa.bindparam("pk")),
                               {"pk": pk})
        return prior, stored

    prior, stored = in_transaction(store, read)
    assert prior is not None
    assert (prior.body_digest, prior.object_kind, prior.reference) == (
        "d" * 64, "DECLARATION", "AZ-DEC-2026-0000001")
    assert bytes(stored) == big
    assert in_transaction(store, lambda uow: uow.messages.find("BRK-0001", "m-2")) is None


def test_declaration_rows_round_trip(store: Store) -> None:
    envelope = declaration(lrn="LRN-CONF-1", items=[
        goods_item(1, "080810", documents=(("PHYTOSANITARY", "PH-1"), ("LICENCE", "L-9"))),
        goods_item(2, "847130")])
    body = read_declaration(body_element(parse_document(envelope)))

    def insert(uow: SqlUnitOfWork) -> int:
        return uow.declarations.insert(body, number="AZ-DEC-2026-0000042", status="REGISTERED",
                                       registered_at=AT, registration_date="2026-12-03",
                                       message_pk=None)

    decl_id = in_transaction(store, insert)
    state = in_transaction(store, lambda uow: uow.declarations.by_number("AZ-DEC-2026-0000042"))
    assert state is not None and state.id == decl_id
    assert (state.lrn, state.status, state.risk_channel) == ("LRN-CONF-1", "REGISTERED", None)
    in_transaction(store, lambda uow: uow.declarations.set_status(
        decl_id, status="RELEASED", at=AT, risk_channel="GREEN", decision_rule="R-1"))
    by_lrn = in_transaction(store, lambda uow: uow.declarations.by_lrn("BRK-0001", "LRN-CONF-1"))
    assert by_lrn is not None and (by_lrn.status, by_lrn.risk_channel) == ("RELEASED", "GREEN")
    facts = in_transaction(store, lambda uow: uow.clearance.facts(decl_id))
    assert facts is not None


# -- idempotency and numbering ----------------------------------------------------------------


def test_idempotency_key_is_unique(store: Store) -> None:
    in_transaction(store, lambda uow: record(uow, "dup-1"))
    with pytest.raises(StoreConflict):
        in_transaction(store, lambda uow: record(uow, "dup-1"))
    in_transaction(store, lambda uow: record(uow, "dup-1", sender="TRD-0001"))  # other sender
    assert in_transaction(store, lambda uow: count(uow.db, messages)) == 2


def test_concurrent_duplicates_one_wins(store: Store) -> None:
    """Two sessions (think: two nodes) record the same key at once: exactly one commits."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def node() -> None:
        session = store.open_session()
        try:
            barrier.wait()
            session.begin()
            record(SqlUnitOfWork(session), "race-1")
            session.commit()
            outcomes.append("committed")
        except StoreConflict:
            session.rollback()
            outcomes.append("conflict")
        finally:
            session.close()

    threads = [threading.Thread(target=node) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["committed", "conflict"]


def test_registration_numbers_never_collide(store: Store) -> None:
    per_thread, threads_n = 25, 4
    results: list[list[int]] = [[] for _ in range(threads_n)]

    def take(slot: list[int]) -> None:
        session = store.open_session()
        try:
            for _ in range(per_thread):
                session.begin()
                slot.append(SqlUnitOfWork(session).next_number("declaration"))
                session.commit()
        finally:
            session.close()

    threads = [threading.Thread(target=take, args=(slot,)) for slot in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    taken = [n for slot in results for n in slot]
    assert len(taken) == len(set(taken)) == per_thread * threads_n
    assert all(slot == sorted(slot) for slot in results)  # increasing within a session
    # every kind has its own sequence
    other = in_transaction(store, lambda uow: [uow.next_number(k) for k in
                                               ("pre_arrival", "crossing", "offense")])
    assert all(isinstance(n, int) and n >= 1 for n in other)


# -- transactions -----------------------------------------------------------------------------


def test_savepoint_rolls_back_only_its_own_message(store: Store) -> None:
    session = store.open_session()
    try:
        uow = SqlUnitOfWork(session)
        session.begin()
        for mid, fail in (("sp-1", False), ("sp-2", True), ("sp-3", False), ("sp-1", False)):
            session.savepoint("msg")
            try:
                record(uow, mid)
                uow.events.append(object_kind="DECLARATION", reference=mid, status="S", at=AT)
                if fail:
                    raise RuntimeError("this message fails after writing")
            except (RuntimeError, StoreConflict):
                session.rollback_to("msg")  # sp-2 by its handler, the second sp-1 by the key
            session.release("msg")
        session.commit()
        session.begin()
        found = {r[0] for r in session.fetchall(sa.select(messages.c.message_id))}
        events = {r[0] for r in session.fetchall(sa.select(status_events.c.reference))}
        session.commit()
    finally:
        session.close()
    assert found == {"sp-1", "sp-3"}
    assert events == {"sp-1", "sp-3"}


def test_rolled_back_transaction_leaves_nothing(store: Store) -> None:
    session = store.open_session()
    try:
        session.begin()
        record(SqlUnitOfWork(session), "gone-1")
        session.rollback()
    finally:
        session.close()
    assert in_transaction(store, lambda uow: uow.messages.find("BRK-0001", "gone-1")) is None


# -- status history ---------------------------------------------------------------------------


def test_status_history_oldest_first(store: Store) -> None:
    statuses = ["REGISTERED", "AWAITING_CERTIFICATES", "UNDER_CONTROL", "RELEASED"]

    def write(uow: SqlUnitOfWork) -> None:
        for n, status in enumerate(statuses):
            uow.events.append(object_kind="DECLARATION", reference="AZ-DEC-2026-0000007",
                              status=status, at=f"2026-12-03T10:15:0{n}.000000Z",
                              note="note" if n == 2 else None)
        uow.events.append(object_kind="CERTIFICATE", reference="AZ-DEC-2026-0000007",
                          status="VALID", at=AT)

    in_transaction(store, write)
    history = in_transaction(store, lambda uow: uow.events.history("DECLARATION",
                                                                   "AZ-DEC-2026-0000007"))
    assert [e.status for e in history] == statuses
    assert history[2].note == "note" and history[0].note is None
    assert in_transaction(store, lambda uow: uow.events.latest_status(
        "DECLARATION", "AZ-DEC-2026-0000007")) == "RELEASED"
    assert in_transaction(store, lambda uow: uow.events.latest_status(
        "DECLARATION", "AZ-DEC-2026-0009999")) is None


# -- outbox -----------------------------------------------------------------------------------


def _notify(uow: SqlUnitOfWork, recipient: str, reference: str) -> int:
    return uow.outbox.add(recipient_id=recipient, at=AT, reference=reference,
                          kind="DECLARATION", status="REGISTERED")


def test_outbox_sequence_per_recipient_and_pull(store: Store) -> None:
    seqs = in_transaction(store, lambda uow: [_notify(uow, r, f"R-{i}") for i, r in
                                              enumerate(["BRK-0001", "BRK-0001", "TRD-0001",
                                                         "BRK-0001"])])
    assert seqs == [1, 2, 1, 3]
    pending = in_transaction(store, lambda uow: uow.outbox.unacknowledged("BRK-0001", 0, 2))
    assert [n.seq for n in pending] == [1, 2]
    assert in_transaction(store, lambda uow: uow.outbox.acknowledge("BRK-0001", 2)) == 2
    rest = in_transaction(store, lambda uow: uow.outbox.unacknowledged("BRK-0001", 0, 10))
    assert [n.seq for n in rest] == [3]
    assert in_transaction(store, lambda uow: uow.outbox.lock_stream("BRK-0001")) == 3


def test_outbox_claim_publish_and_skip_locked(store: Store) -> None:
    in_transaction(store, lambda uow: [_notify(uow, "BRK-0001", f"R-{i}") for i in range(5)])
    first, second = store.open_session(), store.open_session()
    try:
        relay = SqlOutboxRelay(first)
        relay.begin_round()
        assert relay.recipients_with_backlog("", 10) == ["BRK-0001"]
        claim = relay.claim("BRK-0001", 3)
        assert claim is not None and [n.seq for n in claim.notifications] == [1, 2, 3]
        if relay.row_locks:  # another node finds the head locked and leaves the stream alone
            other = SqlOutboxRelay(second)
            other.begin_round()
            assert other.claim("BRK-0001", 3) is None
            other.abandon_round()
        assert relay.end_round([Published("BRK-0001", 1, 3)]) == 3
        again = SqlOutboxRelay(second)
        again.begin_round()
        later = again.claim("BRK-0001", 10)
        assert later is not None and [n.seq for n in later.notifications] == [4, 5]
        again.abandon_round()
        assert again.backlog() == 2
    finally:
        first.close()
        second.close()
