"""Store benchmark: sustained ingestion over mutual TLS, SQLite vs PostgreSQL, 1 and N workers.

Runs bench/ingest.py (the closed-loop mTLS load generator: hundreds of
connections, a realistic declaration per request, a Receipt = a durable commit)
once per case:

- SQLite (WAL, synchronous=FULL) in a temporary folder;
- PostgreSQL: a throwaway database created on the server given by --pg-url,
  migrated with `uams-gateway db upgrade`, dropped afterwards;

each with 1 and with --server-workers gateway processes (SO_REUSEPORT), and
checks for PostgreSQL too that every Receipt is in the store. Prints one
Markdown table (ingest.py's columns, plus the store check).

    .venv/bin/python bench/store_ingest.py --connections 200 --depth 2 --duration 20
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def create_database(admin_url: str) -> str:
    name = f"uams_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    env = {**os.environ, "UAMS_STORE_URL": url}
    subprocess.run([str(BIN / "uams-gateway"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return url


def drop_database(admin_url: str, url: str) -> None:
    name = url.rpartition("/")[2]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stored_in_postgres(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM messages").fetchone()
    return int(row[0]) if row else 0


def run_case(args: argparse.Namespace, store_url: str | None, workers: int,
             header: bool) -> tuple[str, dict[str, object]]:
    command = [sys.executable, str(ROOT / "bench" / "ingest.py"),
               "--connections", str(args.connections), "--depth", str(args.depth),
               "--duration", str(args.duration), "--warmup", str(args.warmup),
               "--workers", str(args.client_workers), "--server-workers", str(workers),
               "--log-level", args.log_level]
    if store_url:
        command += ["--store-url", store_url]
    if header:
        command.append("--header")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"bench/ingest.py failed ({done.returncode})")
    summary = json.loads(done.stderr[done.stderr.index("{"):done.stderr.rindex("}") + 1])
    return done.stdout.strip(), summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--client-workers", type=int, default=2)
    parser.add_argument("--server-workers", type=int, default=2,
                        help="the multi-process case (the other one is 1)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a database on the PostgreSQL server to benchmark against")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--log-level", default="WARNING",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    args = parser.parse_args(argv)
    header = True
    for store in args.stores.split(","):
        for workers in sorted({1, args.server_workers}):
            url = create_database(args.pg_url) if store == "postgresql" else None
            try:
                row, summary = run_case(args, url, workers, header)
                check = ""
                if url is not None:
                    stored = stored_in_postgres(url)
                    receipts = int(summary["receipts (whole run)"])  # type: ignore[call-overload]
                    check = "ok" if stored >= receipts else f"MISSING {receipts - stored}"
            finally:
                if url is not None:
                    drop_database(args.pg_url, url)
            lines = row.splitlines()
            if header:
                print(lines[0].rstrip(" |") + " | server workers | store check |")
                print(lines[1] + "---|---|")
                header = False
            print(lines[-1].rstrip(" |") + f" | {workers} | {check or 'ok (sqlite)'} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
