"""Group commit: one transaction per batch, one savepoint per message (ARCHITECTURE 1–3)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from adapters.sqlite.store import SqliteStore
from gateway.participants import load_participants
from gateway.pipeline import Pipeline
from gateway.writer import GroupCommitWriter
from handlers.outcomes import Accepted
from protocol.errors import BusinessRuleViolation, InternalError
from protocol.schemas import SchemaSet
from tests.builders import declaration
from tests.conftest import PARTICIPANTS_FILE


def _setup(tmp_path: Path, pki_dir: Path) -> tuple[SqliteStore, Pipeline]:
    store = SqliteStore(f"sqlite:///{tmp_path / 'gc.db'}")
    store.prepare()
    registry = load_participants(PARTICIPANTS_FILE, dev_cert_dir=pki_dir)
    return store, Pipeline(SchemaSet(), registry)


def _declarations(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT lrn, declaration_number FROM declarations ORDER BY id").fetchall()


async def test_a_failing_handler_rolls_back_only_its_own_message(tmp_path: Path,
                                                                  pki_dir: Path) -> None:
    store, pipeline = _setup(tmp_path, pki_dir)
    broker = pipeline.registry.get("BRK-0001")
    assert broker is not None

    def apply(uow, prepared):  # type: ignore[no-untyped-def]
        outcome = pipeline.apply(uow, prepared)  # writes the message and the declaration…
        if prepared.message.header.message_id == "boom":
            raise RuntimeError("a bug after the handler wrote its rows")
        return outcome

    batches: list[int] = []
    writer = GroupCommitWriter(store, apply, max_batch=10, max_wait_seconds=0.2,
                               on_batch=lambda size, _: batches.append(size))
    writer.start()
    jobs = [pipeline.prepare(declaration(lrn=lrn, mid=mid), broker)
            for lrn, mid in (("GC-1", "m1"), ("GC-2", "boom"), ("GC-3", "m3"))]
    results = await asyncio.gather(*(writer.submit(job) for job in jobs))
    await writer.stop()

    assert batches == [3], "the three messages were committed as one batch"
    assert isinstance(results[0], Accepted) and isinstance(results[2], Accepted)
    assert isinstance(results[1], InternalError)
    assert [lrn for lrn, _ in _declarations(tmp_path / "gc.db")] == ["GC-1", "GC-3"]
    with sqlite3.connect(tmp_path / "gc.db") as db:
        ids = [r[0] for r in db.execute("SELECT message_id FROM messages ORDER BY id")]
        items = db.execute("SELECT count(*) FROM goods_items").fetchone()[0]
    assert ids == ["m1", "m3"], "the failed message left no row behind"
    assert items == 2


async def test_messages_in_one_batch_see_the_effects_of_earlier_ones(tmp_path: Path,
                                                                     pki_dir: Path) -> None:
    store, pipeline = _setup(tmp_path, pki_dir)
    broker = pipeline.registry.get("BRK-0001")
    assert broker is not None
    batches: list[int] = []
    writer = GroupCommitWriter(store, pipeline.apply, max_batch=10, max_wait_seconds=0.2,
                               on_batch=lambda size, _: batches.append(size))
    writer.start()
    first = pipeline.prepare(declaration(lrn="SAME", mid="a"), broker)
    second = pipeline.prepare(declaration(lrn="SAME", mid="b"), broker)
    third = pipeline.prepare(declaration(lrn="OTHER", mid="c"), broker)
    results = await asyncio.gather(*(writer.submit(j) for j in (first, second, third)))
    await writer.stop()

    assert batches == [3]
    assert isinstance(results[0], Accepted)
    assert isinstance(results[1], BusinessRuleViolation), "LRN reuse seen inside the batch"
    assert results[1].details[0].rule == "LRN_UNIQUE"
    assert isinstance(results[2], Accepted)
    numbers = [n for _, n in _declarations(tmp_path / "gc.db")]
    assert numbers == sorted(numbers) and len(set(numbers)) == 2, "numbered in arrival order"
