"""PostgreSQL driver benchmark: the group-commit writer's own pattern, psycopg 3 vs asyncpg.

The writer holds one connection on its own thread and, per batch, runs:
BEGIN; per message: SAVEPOINT, INSERT the message row RETURNING its key, INSERT
the payload, RELEASE; COMMIT. This script runs exactly that against a throwaway
database (created and dropped here, schema from the gateway's migrations) with

- psycopg 3, synchronous, autocommit connection + explicit BEGIN (what the
  adapter does), statements compiled by the adapter (`SqlSession`);
- asyncpg, on an event loop of its own in the same kind of thread, prepared
  statements, the same statements by hand;

for batch sizes 1, 10 and 100, and reports durable messages per second and the
client's CPU per message (this process only; the server's share is the rest).

    .venv/bin/python bench/store_drivers.py --url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters import migrations  # noqa: E402
from adapters.postgres.store import PostgresStore  # noqa: E402
from adapters.repositories.core import SqlMessageLog  # noqa: E402

PAYLOAD = (ROOT / "examples" / "valid" / "05-declaration-machinery.BRK-0001.xml").read_bytes()
AT = "2026-12-03T10:15:00.000000Z"
INSERT_MESSAGE = ("INSERT INTO messages (sender_id, message_id, message_type, body_digest, "
                  "received_at, object_kind, reference) VALUES ($1, $2, $3, $4, $5, NULL, NULL) "
                  "RETURNING id")
INSERT_PAYLOAD = "INSERT INTO message_payloads (message_pk, received_at, payload) VALUES ($1,$2,$3)"


def run_psycopg(url: str, batch: int, total: int, tag: str) -> tuple[float, float]:
    store = PostgresStore(url)
    session = store.open_session()
    log = SqlMessageLog(session)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, total, batch):
            session.begin()
            for n in range(start, start + batch):
                session.savepoint("msg")
                log.record(sender_id="BRK-0001", message_id=f"{tag}-{n}",
                           message_type="CustomsDeclaration", body_digest="d" * 64,
                           received_at=AT, object_kind=None, reference=None, payload=PAYLOAD)
                session.release("msg")
            session.commit()
        return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        session.close()
        store.close()


def run_asyncpg(url: str, batch: int, total: int, tag: str) -> tuple[float, float]:
    import asyncpg  # measured here only; the gateway does not depend on it

    async def main() -> tuple[float, float]:
        conn = await asyncpg.connect(url)
        try:
            insert_message = await conn.prepare(INSERT_MESSAGE)
            insert_payload = await conn.prepare(INSERT_PAYLOAD)
            wall, cpu = time.perf_counter(), time.process_time()
            for start in range(0, total, batch):
                await conn.execute("BEGIN")
                for n in range(start, start + batch):
                    await conn.execute("SAVEPOINT msg")
                    pk = await insert_message.fetchval("BRK-0001", f"{tag}-{n}",
                                                       "CustomsDeclaration", "d" * 64, AT)
                    await insert_payload.fetch(pk, AT, PAYLOAD)
                    await conn.execute("RELEASE SAVEPOINT msg")
                await conn.execute("COMMIT")
            return time.perf_counter() - wall, time.process_time() - cpu
        finally:
            await conn.close()

    return asyncio.run(main())


DRIVERS: dict[str, Callable[[str, int, int, str], tuple[float, float]]] = {
    "psycopg 3 (sync, SqlSession)": run_psycopg,
}
try:
    import asyncpg  # noqa: F401
except ImportError:
    print("asyncpg is not installed: measuring psycopg only", file=sys.stderr)
else:
    DRIVERS["asyncpg (prepared)"] = run_asyncpg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="an existing database to create the throwaway one from")
    parser.add_argument("--messages", type=int, default=3000, help="messages per run (3000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per case; median shown (5)")
    args = parser.parse_args(argv)
    base = args.url.rpartition("/")[0]
    name = f"uams_bench_{secrets.token_hex(4)}"
    with psycopg.connect(args.url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    try:
        store = PostgresStore(url)
        migrations.upgrade(store)
        store.close()
        print("| driver | batch | msgs/s (median) | spread | client CPU µs/msg |")
        print("|---|---:|---:|---:|---:|")
        for batch in (1, 10, 100):
            for label, run in DRIVERS.items():
                rates, cpus = [], []
                for r in range(args.runs):
                    tag = f"{label[:3]}-{batch}-{r}-{secrets.token_hex(3)}"
                    wall, cpu = run(url, batch, args.messages, tag)
                    rates.append(args.messages / wall)
                    cpus.append(cpu / args.messages * 1e6)
                median = statistics.median(rates)
                spread = (max(rates) - min(rates)) / median * 100
                print(f"| {label} | {batch} | {median:,.0f} | {spread:.0f}% | "
                      f"{statistics.median(cpus):.0f} |", flush=True)
    finally:
        with psycopg.connect(args.url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
