"""The versioned schema: migrations build exactly the tables of `adapters.tables` on every
backend, a server refuses a database at another revision, SQLite upgrades itself,
and `uams-gateway db upgrade | current` report what they did."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from adapters import migrations
from adapters.migrations import SchemaMismatch
from adapters.sqlite.store import SqliteStore
from adapters.store import Store, open_store
from adapters.tables import metadata
from adapters.tables.core import SEQUENCES
from gateway.app import start_gateway
from gateway.cli import main
from tests.conftest import make_config
from tests.store.backends import pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with pg_database(migrated=False) as url:
        yield url


def opened(url: str) -> Store:
    return open_store(url)


def table_names(store: Store) -> set[str]:
    engine = migrations.engine_for(store)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrated_schema_equals_the_tables(empty_url: str) -> None:
    """Drift guard: a table or column added to adapters/tables needs a migration revision."""
    store = opened(empty_url)
    try:
        assert migrations.current(store) is None
        migrations.upgrade(store)
        assert migrations.current(store) == migrations.head()
        diffs = migrations.differences(store)
        assert diffs == [], ("the migrations do not build adapters.tables.metadata; add a revision "
                             f"in adapters/migrations/versions: {diffs}")
        assert {t.name for t in metadata.sorted_tables} <= table_names(store)
        session = store.open_session()
        try:  # every registration-number sequence exists and counts from 1
            for seq in SEQUENCES.values():
                session.begin()
                assert session.next_value(seq.name) == 1
                session.commit()
        finally:
            session.close()
    finally:
        store.close()


def test_downgrade_to_nothing_and_back(empty_url: str) -> None:
    from alembic import command

    store = opened(empty_url)
    try:
        migrations.upgrade(store)
        engine = migrations.engine_for(store)
        try:
            with engine.begin() as conn:
                command.downgrade(migrations.alembic_config(connection=conn), "base")
        finally:
            engine.dispose()
        assert table_names(store) <= {"alembic_version"}
        migrations.upgrade(store)
        assert migrations.differences(store) == []
    finally:
        store.close()


def test_upgrades_started_together_migrate_once(empty_url: str, tmp_path: Path) -> None:
    """Several nodes or workers running `db upgrade` at the same moment: one migrates."""
    env = {**os.environ, "UAMS_STORE_URL": empty_url}
    procs = [subprocess.Popen([sys.executable, "-m", "gateway.cli", "db", "upgrade"], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    outputs = sorted(out.decode() for out, _ in results)
    assert sum("upgraded from empty" in out for out in outputs) == 1, outputs
    store = opened(empty_url)
    try:
        assert migrations.current(store) == migrations.head()
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_store_refuses_a_database_at_another_revision() -> None:
    with pg_database(migrated=False) as url:
        store = opened(url)
        try:
            with pytest.raises(SchemaMismatch, match="db upgrade"):
                store.prepare()
            migrations.upgrade(store)
            store.prepare()  # at head: fine
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")
            with pytest.raises(SchemaMismatch, match="newer version"):
                store.prepare()
        finally:
            store.close()


@pytest.mark.postgres
async def test_server_does_not_start_on_an_unmigrated_database(pki_dir: Path,
                                                              tmp_path: Path) -> None:
    with pg_database(migrated=False) as url:
        config = make_config(pki_dir, tmp_path, STORE_URL=url)
        with pytest.raises(SchemaMismatch):
            await start_gateway(config)


def test_sqlite_upgrades_itself_on_start(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'new.db'}")
    store.prepare()
    assert migrations.current(store) == migrations.head()
    store.prepare()  # second start: nothing to do
    assert migrations.differences(store) == []


def test_sqlite_adopts_a_file_made_before_migrations(tmp_path: Path) -> None:
    path = tmp_path / "legacy.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    engine.dispose()
    store = SqliteStore(f"sqlite:///{path}")
    store.prepare()
    assert migrations.current(store) == migrations.head()


def test_sqlite_refuses_an_unversioned_file_that_differs(tmp_path: Path) -> None:
    path = tmp_path / "odd.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, other TEXT)")
    conn.close()
    with pytest.raises(SchemaMismatch, match="no schema revision"):
        SqliteStore(f"sqlite:///{path}").prepare()


def test_db_commands(empty_url: str, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("UAMS_STORE_URL", empty_url)
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    assert main(["db", "current"]) == 1
    assert "none" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"to revision {migrations.head()}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "already at revision" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.strip() == f"{migrations.head()} (head)"


def test_db_upgrade_sql_prints_ddl_without_a_database(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("UAMS_STORE_URL", "oracle+oracledb://uams:secret@db.invalid:1521/"
                                         "?service_name=UAMS")
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    assert main(["db", "upgrade", "--sql"]) == 0
    out = capsys.readouterr().out
    assert "CREATE TABLE messages" in out and "CREATE SEQUENCE declaration_number_seq" in out
