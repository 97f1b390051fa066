"""The writer reads a batch's lookups at once and, where it may, chooses keys and writes
messages and declarations in bulk. None of it may change an answer: these are the cases
where a lookup answered from memory could go wrong, run through the real writer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog

from adapters.repositories.declarations import _insert_with_id
from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.sql.statements import insert_of
from adapters.sqlite.store import SqliteStore
from adapters.store import Store
from adapters.tables.certificates import declaration_certificates
from adapters.tables.core import message_payloads, messages
from adapters.tables.declarations import declarations, goods_items
from adapters.tables.enforcement import offenses
from gateway.participants import load_participants
from gateway.pipeline import Pipeline
from gateway.writer import GroupCommitWriter
from handlers.outcomes import Accepted, Answer
from protocol.errors import BusinessRuleViolation, DuplicateConflict
from protocol.schemas import SchemaSet
from tests.builders import declaration, status_request
from tests.conftest import PARTICIPANTS_FILE


@pytest.fixture
def pipeline(pki_dir: Path) -> Pipeline:
    return Pipeline(SchemaSet(), load_participants(PARTICIPANTS_FILE, dev_cert_dir=pki_dir))


def _one_batch(store: Store, pipeline: Pipeline, payloads: list[bytes],
               prefetch: Any = None) -> list[Any]:
    """Apply `payloads` (all from BRK-0001) as one batch, with the gateway's batch lookups."""
    broker = pipeline.registry.get("BRK-0001")
    assert broker is not None
    jobs = [pipeline.prepare(p, broker) for p in payloads]
    batches: list[int] = []

    async def run() -> list[Any]:
        writer = GroupCommitWriter(store, pipeline.apply, max_batch=len(jobs),
                                   max_wait_seconds=0.5, prefetch=prefetch or pipeline.prefetch,
                                   on_batch=lambda size, _: batches.append(size))
        writer.start()
        results = await asyncio.gather(*(writer.submit(job) for job in jobs))
        await writer.stop()
        return list(results)

    results = asyncio.run(run())
    assert batches == [len(jobs)], "the messages were applied as one batch"
    return results


def _count(store: Store, stmt: sa.Select[Any]) -> int:
    session = store.open_session()
    try:
        return int(session.scalar(stmt) or 0)
    finally:
        session.close()


def test_a_resend_in_the_same_batch_is_a_duplicate(store: Store, pipeline: Pipeline) -> None:
    original = declaration(mid="twice", lrn="BL-1")
    first, again = _one_batch(store, pipeline, [original, original])
    assert isinstance(first, Accepted) and not first.duplicate
    assert isinstance(again, Accepted) and again.duplicate
    assert again.reference == first.reference
    assert _count(store, sa.select(sa.func.count()).select_from(messages)) == 1


def test_a_different_body_under_a_used_id_in_the_same_batch_conflicts(
        store: Store, pipeline: Pipeline) -> None:
    first, other = _one_batch(store, pipeline, [declaration(mid="same-id", lrn="BL-2"),
                                                declaration(mid="same-id", lrn="BL-3")])
    assert isinstance(first, Accepted)
    assert isinstance(other, DuplicateConflict)


def test_a_resend_of_an_earlier_batch_is_found_by_the_batch_read(store: Store,
                                                                  pipeline: Pipeline) -> None:
    [first] = _one_batch(store, pipeline, [declaration(mid="early", lrn="BL-4")])
    [again, new] = _one_batch(store, pipeline, [declaration(mid="early", lrn="BL-4"),
                                                declaration(mid="later", lrn="BL-5")])
    assert isinstance(first, Accepted) and isinstance(again, Accepted) and again.duplicate
    assert again.reference == first.reference and again.status == first.status
    assert isinstance(new, Accepted) and not new.duplicate


def test_an_lrn_reused_in_the_same_batch_or_a_later_one_is_refused(
        store: Store, pipeline: Pipeline) -> None:
    first, reused = _one_batch(store, pipeline, [declaration(lrn="BL-6"),
                                                 declaration(lrn="BL-6")])
    [later] = _one_batch(store, pipeline, [declaration(lrn="BL-6")])
    assert isinstance(first, Accepted)
    for refused in (reused, later):
        assert isinstance(refused, BusinessRuleViolation)
        assert refused.details[0].rule == "LRN_UNIQUE"


def test_a_status_request_sees_a_declaration_lodged_earlier_in_its_batch(
        store: Store, pipeline: Pipeline) -> None:
    lodged, by_lrn, by_number_missing = _one_batch(store, pipeline, [
        declaration(lrn="BL-7"),
        status_request(sender="BRK-0001", lrn="BL-7"),
        status_request(sender="BRK-0001", lrn="BL-8"),
    ])
    assert isinstance(lodged, Accepted)
    assert isinstance(by_lrn, Answer)
    assert lodged.reference is not None and lodged.reference in by_lrn.body
    assert not isinstance(by_number_missing, Answer), "an unknown LRN is still NOT_FOUND"


def test_a_failing_batch_read_costs_speed_not_answers(store: Store,
                                                      pipeline: Pipeline) -> None:
    [first] = _one_batch(store, pipeline, [declaration(mid="fr-1", lrn="BL-9")])

    def broken(uow: SqlUnitOfWork, batch: list[Any]) -> None:
        pipeline.prefetch(uow, batch)
        raise RuntimeError("a bug in a batch lookup")

    with structlog.testing.capture_logs() as logs:
        again, reused = _one_batch(store, pipeline, [declaration(mid="fr-1", lrn="BL-9"),
                                                     declaration(lrn="BL-9")], prefetch=broken)
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["prefetch_failed"]
    assert isinstance(again, Accepted) and again.duplicate
    assert again.reference == getattr(first, "reference", None)
    assert isinstance(reused, BusinessRuleViolation)


def test_keys_are_chosen_by_the_writer_only_where_it_holds_the_whole_database(
        store: Store) -> None:
    session = store.open_session()
    try:
        session.begin()
        chosen = session.new_id(declarations)
        session.rollback()
    finally:
        session.close()
    if store.dialect_name == "sqlite":
        assert chosen == 1, "SQLite: max(id) + 1, under the one write lock"
    else:
        assert chosen is None, "other nodes insert too: the database generates keys"


def test_a_row_added_with_a_store_drawn_number_is_queued_where_keys_are_chosen(
        store: Store) -> None:
    row = {"offense_number": "AZ-OFF-2026-0000001", "reporter_id": "BCP-0001",
           "offense_type": "SMUGGLING", "detected_at": "2026-12-04T08:00:00Z",
           "customs_office": "BAKU-MAIN", "declaration_number": None,
           "vehicle_registration": None, "description": "hidden compartment",
           "status": "REPORTED", "registered_at": "2026-12-04T08:00:01Z",
           "status_changed_at": "2026-12-04T08:00:01Z", "message_pk": None}
    session = store.open_session()
    try:
        session.begin()
        key = session.add_row(offenses, row)
        before = session.flushes
        stored = session.fetchall(sa.select(offenses.c.id, offenses.c.offense_number))
        written_for_the_read = session.flushes - before
        session.rollback()
    finally:
        session.close()
    assert stored == [(key, "AZ-OFF-2026-0000001")], "a read of the table sees the row"
    if store.dialect_name == "sqlite":
        assert written_for_the_read == 1, "SQLite: queued until a statement needs the table"
    else:
        assert written_for_the_read == 0, "elsewhere inserted at once, with the database's key"


def test_a_queued_parent_is_written_before_a_row_that_refers_to_it(tmp_path: Path) -> None:
    """Rows wait in memory for the bulk insert; a statement inserting a child of a queued
    row (here a certificate link of a declaration) writes the queue first."""
    store = SqliteStore(f"sqlite:///{tmp_path / 'fk.db'}")
    store.prepare()
    session = store.open_session()
    try:
        session.begin()
        decl_id = session.new_id(declarations)
        session.defer(_insert_with_id, [{
            "id": decl_id, "declaration_number": "AZ-DEC-2026-9999999",
            "declarant_id": "BRK-0001", "lrn": "BL-FK", "procedure_type": "IM",
            "customs_office": "BAKU-MAIN", "consignor_name": "S", "consignor_country": "CN",
            "consignee_name": "C", "consignee_tax_id": "1234567890", "consignee_country": "AZ",
            "transport_mode": "ROAD", "transport_identification": "X",
            "transport_nationality": "AZ", "border_crossing_point": "RED-BRIDGE",
            "invoice_currency": "USD", "total_invoice_amount": 100, "status": "REGISTERED",
            "risk_channel": None, "decision_rule": None,
            "registered_at": "2026-12-03T10:00:00.000000Z", "registration_date": "2026-12-03",
            "status_changed_at": "2026-12-03T10:00:00.000000Z", "message_pk": None}])
        session.execute(sa.insert(declaration_certificates).values(
            declaration_id=decl_id, item_seq=1, certificate_type="PHYTOSANITARY",
            certificate_number="PH-FK"))
        session.commit()
        linked = session.scalar(sa.select(sa.func.count()).select_from(declaration_certificates))
    finally:
        session.close()
        store.close()
    assert linked == 1


def test_chosen_keys_continue_after_the_stored_ones_and_skip_a_failed_message(
        store: Store, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    results = _one_batch(store, pipeline, [declaration(lrn=f"BL-K{i}") for i in range(3)])
    assert all(isinstance(r, Accepted) for r in results)

    original = pipeline.apply

    def apply(uow: SqlUnitOfWork, prepared: Any) -> Any:
        outcome = original(uow, prepared)
        if prepared.message.header.message_id == "fails":
            raise RuntimeError("a bug after the handler queued its rows")
        return outcome

    broker = pipeline.registry.get("BRK-0001")
    assert broker is not None
    monkeypatch.setattr(pipeline, "apply", apply)
    more = _one_batch(store, pipeline, [declaration(lrn="BL-K3"),
                                         declaration(lrn="BL-K4", mid="fails"),
                                         declaration(lrn="BL-K5")])
    assert [type(r).__name__ for r in more] == ["Accepted", "InternalError", "Accepted"]
    session = store.open_session()
    try:
        ids = [r[0] for r in session.fetchall(sa.select(declarations.c.id)
                                              .order_by(declarations.c.id))]
        items = session.fetchall(sa.select(goods_items.c.declaration_id))
    finally:
        session.close()
    assert len(ids) == len(set(ids)) == 5
    assert ids[:3] == sorted(ids[:3]) and min(ids[3:]) > max(ids[:3])
    assert {r[0] for r in items} == set(ids), "every goods item belongs to a stored declaration"


def test_queued_rows_are_written_parents_first_whatever_order_they_were_queued_in(
        tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'order.db'}")
    store.prepare()
    session = store.open_session()
    try:
        session.begin()
        pk = session.new_id(messages)
        session.defer(insert_of(message_payloads), [
            {"message_pk": pk, "received_at": "2026-12-03T10:00:00.000000Z", "payload": b"<x/>"}])
        session.defer(insert_of(messages, [c.name for c in messages.columns]), [{
            "id": pk, "sender_id": "BRK-0001", "message_id": "child-first",
            "message_type": "CustomsDeclaration", "body_digest": "d" * 64,
            "received_at": "2026-12-03T10:00:00.000000Z", "object_kind": None,
            "reference": None}])
        session.commit()
        stored = session.scalar(sa.select(sa.func.count()).select_from(message_payloads))
    finally:
        session.close()
        store.close()
    assert stored == 1


def test_numbers_are_unique_and_increasing_per_session_and_drawn_in_blocks(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = [store.open_session(), store.open_session()]  # two nodes
    draws: list[int] = []
    for session in sessions:
        original = session.flavor.next_values

        def counted(cursor: Any, sequence: str, count: int,
                    original: Any = original) -> list[int]:
            draws.append(count)
            return list(original(cursor, sequence, count))

        monkeypatch.setattr(session.flavor, "next_values", counted)
    try:
        numbers: list[list[int]] = [[], []]
        for _ in range(70):
            for node, session in enumerate(sessions):
                session.begin()
                numbers[node].append(session.next_value("declaration_number_seq"))
                session.commit()
    finally:
        for session in sessions:
            session.close()
    every = numbers[0] + numbers[1]
    assert len(set(every)) == len(every) == 140, "unique across nodes"
    assert all(n == sorted(n) for n in numbers), "increasing on each node"
    block = sessions[0].flavor.number_block
    if block:
        assert draws == [block] * 4, "two blocks of numbers per node for 70 numbers"
    else:
        assert draws == [], "numbers one at a time (SQLite: counters; Oracle: NEXTVAL)"


def test_every_insert_of_the_store_can_be_copied_into_postgresql() -> None:
    """Queued rows reach PostgreSQL by COPY: each INSERT the repositories queue must give
    its table, its columns and one bind per column, in order."""
    from adapters.postgres.store import PostgresFlavor, _copy_target
    from adapters.sql.statements import compile_sql
    from tests.test_oracle_sql import module_statements

    inserts = {name: stmt for name, stmt in module_statements().items()
               if isinstance(stmt, sa.Insert)}
    assert len(inserts) >= 10
    for name, stmt in inserts.items():
        target, binds = _copy_target(compile_sql(stmt, PostgresFlavor.dialect).text)
        columns = [c.strip() for c in target[target.index("(") + 1:-1].split(",")]
        assert binds == tuple(columns), name
