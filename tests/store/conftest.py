"""Fixtures of the store tests: one `store` per backend (SQLite, PostgreSQL, Oracle)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import migrations
from adapters.store import Store, open_store
from tests.store.backends import ORACLE_URL, empty_tables, pg_database

BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("oracle", marks=[
        pytest.mark.oracle,
        pytest.mark.skipif(ORACLE_URL is None, reason="no Oracle server: set UAMS_TEST_ORACLE_URL "
                           "to a schema the tests may fill and empty"),
    ]),
]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """This test run's own migrated PostgreSQL database (dropped at the end)."""
    with pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def oracle_url() -> Iterator[str]:
    assert ORACLE_URL is not None
    store = open_store(ORACLE_URL)
    try:
        migrations.upgrade(store)
    finally:
        store.close()
    yield ORACLE_URL


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue(_URL_FIXTURES[request.param]))


_URL_FIXTURES = {"postgresql": "postgres_url", "oracle": "oracle_url"}


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = open_store(store_url)
    store.prepare()
    empty_tables(store)
    try:
        yield store
    finally:
        store.close()
