"""The databases the store tests run against, and their throwaway copies.

PostgreSQL is real: the server named by `UAMS_TEST_POSTGRES_URL` (default: the
CI machine's, `postgresql://postgres@127.0.0.1:5432/test`, trust auth). Each
test run creates its own databases with random names and drops them after.
Oracle runs only when `UAMS_TEST_ORACLE_URL` names a schema the tests may fill
and empty.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import sqlalchemy as sa

from adapters import migrations
from adapters.store import Store, open_store
from adapters.tables import metadata

PG_ADMIN_URL = os.environ.get("UAMS_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
ORACLE_URL = os.environ.get("UAMS_TEST_ORACLE_URL")


def pg_url(database: str, admin_url: str = PG_ADMIN_URL) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{database}"


def _admin(admin_url: str) -> psycopg.Connection[object]:
    try:
        return psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {admin_url} is not reachable ({exc}); the store tests need "
                    "it (CI starts it; elsewhere set UAMS_TEST_POSTGRES_URL)", pytrace=False)


def create_pg_database(admin_url: str = PG_ADMIN_URL, prefix: str = "uams_test") -> str:
    """A new empty database with a random name; returns its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with _admin(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_url(name, admin_url)


def drop_pg_database(url: str, admin_url: str = PG_ADMIN_URL) -> None:
    name = url.rpartition("/")[2]
    with _admin(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def pg_database(admin_url: str = PG_ADMIN_URL, *, migrated: bool = True) -> Iterator[str]:
    """A throwaway database for the `with` block (migrated to head unless told otherwise)."""
    url = create_pg_database(admin_url)
    try:
        if migrated:
            store = open_store(url)
            try:
                migrations.upgrade(store)
            finally:
                store.close()
        yield url
    finally:
        drop_pg_database(url, admin_url)


def empty_tables(store: Store) -> None:
    """Delete every row of every gateway table (children first); sequences keep going."""
    session = store.open_session()
    try:
        session.begin()
        if store.dialect_name == "postgresql":
            names = ", ".join(t.name for t in metadata.sorted_tables)
            session.execute(sa.text(f"TRUNCATE {names}"))
        else:
            for table in reversed(metadata.sorted_tables):
                session.execute(sa.delete(table))
        session.commit()
    finally:
        session.close()
