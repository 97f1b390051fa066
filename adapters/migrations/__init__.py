"""The versioned schema: Alembic migrations that run on SQLite, PostgreSQL and Oracle.

`upgrade` brings a database to the newest revision (`uams-gateway db upgrade`);
`current` reads where it is (`db current`); `require_current` is what a
PostgreSQL or Oracle store does on start: refuse a database at any other
revision than this gateway's, so that two versions never write one schema.
SQLite upgrades itself on start (`upgrade`, under a file lock).
"""

from __future__ import annotations

import io
import threading
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from adapters.errors import StoreError

HERE = Path(__file__).resolve().parent
INI_FILE = HERE.parent / "alembic.ini"

#: SQLAlchemy dialect URL of each store, for engines built on the store's own connections.
_ENGINE_URLS = {
    "sqlite": "sqlite://",
    "postgresql": "postgresql+psycopg://",
    "oracle": "oracle+oracledb://",
}


#: Any constant works; it only has to be the same for every gateway process.
PG_MIGRATION_LOCK = 7_400_001
#: Alembic's `context` and `op` are process-wide: one migration command at a time per process.
_ALEMBIC = threading.RLock()


class SchemaMismatch(StoreError):
    """The database is not at the schema revision this gateway was built for."""


class MigratableStore(Protocol):
    url: str
    dialect_name: str

    def raw_connection(self) -> Any:
        """A fresh driver connection (driver-managed transactions)."""


def alembic_config(*, connection: sa.Connection | None = None,
                   output: io.StringIO | None = None) -> Config:
    config = Config(str(INI_FILE), output_buffer=output)
    config.set_main_option("script_location", str(HERE))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The newest revision this gateway knows."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None, "no migration revisions found"
    return revision


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def engine_for(store: MigratableStore) -> sa.Engine:
    """A SQLAlchemy engine whose connections come from the store's own connect function."""
    engine = sa.create_engine(_ENGINE_URLS[store.dialect_name], creator=store.raw_connection,
                              poolclass=NullPool)
    if store.dialect_name == "sqlite":
        # pysqlite would leave DDL outside any transaction: take the write lock up front,
        # which also queues concurrent migrators (several workers starting at once).
        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


def current(store: MigratableStore) -> str | None:
    """The database's revision; None for a database never migrated."""
    engine = engine_for(store)
    try:
        with _ALEMBIC, engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except sa.exc.DBAPIError as exc:
        raise _store_error(exc) from exc
    finally:
        engine.dispose()


def upgrade(store: MigratableStore, revision: str = "head") -> str | None:
    """Migrate to `revision` (default: the newest); returns the revision found before.

    Safe to run from several processes or nodes at once on PostgreSQL (advisory
    lock) and SQLite (write lock): the later ones find nothing left to do. Oracle
    commits every DDL statement by itself, so nothing can be held across a
    migration there: run it from one place (see docs/oracle.md). A database whose
    tables were created before migrations existed (same schema, no version
    table) is adopted: stamped at the newest revision.
    """
    engine = engine_for(store)
    try:
        with _ALEMBIC, engine.begin() as conn:
            lock_for_migration(conn)
            before = MigrationContext.configure(conn).get_current_revision()
            _adopt_unversioned(conn)
            command.upgrade(alembic_config(connection=conn), revision)
            return before
    except sa.exc.DBAPIError as exc:
        raise _store_error(exc) from exc
    finally:
        engine.dispose()


def lock_for_migration(conn: sa.Connection) -> None:
    """Hold the migration lock until this transaction ends (PostgreSQL; SQLite's
    `BEGIN IMMEDIATE` already holds the write lock)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")


def _adopt_unversioned(conn: sa.Connection) -> None:
    context = MigrationContext.configure(conn)
    if context.get_current_revision() is not None:
        return
    if not sa.inspect(conn).has_table("messages"):
        return  # an empty database: the first revision creates everything
    from adapters.tables import metadata

    diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                             metadata)
    if diffs:
        raise SchemaMismatch("the database holds gateway tables but no schema revision, and they "
                             f"differ from this gateway's schema ({len(diffs)} differences)")
    command.stamp(alembic_config(connection=conn), head())


def require_current(store: MigratableStore) -> None:
    """Raise `SchemaMismatch` unless the database is at `head()`."""
    found = current(store)
    wanted = head()
    if found == wanted:
        return
    if found is None:
        raise SchemaMismatch(f"the database has no schema yet (this gateway needs revision "
                             f"{wanted}): run `uams-gateway db upgrade`")
    if found in known_revisions():
        raise SchemaMismatch(f"the database schema is at revision {found}, this gateway needs "
                             f"{wanted}: run `uams-gateway db upgrade`")
    raise SchemaMismatch(f"the database schema is at revision {found}, unknown to this gateway "
                         f"(needs {wanted}): it was migrated by a newer version")


def differences(store: MigratableStore) -> list[Any]:
    """What differs between the database and the tables of `adapters.tables` (none: in sync)."""
    from adapters.tables import metadata

    engine = engine_for(store)
    try:
        with _ALEMBIC, engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def offline_sql(dialect_name: str, revision: str = "head", start: str | None = None) -> str:
    """The migration as a SQL script for one dialect, without a database (for DBAs)."""
    output = io.StringIO()
    config = alembic_config(output=output)
    config.attributes["dialect_name"] = dialect_name
    target = f"{start}:{revision}" if start else revision
    with _ALEMBIC:
        command.upgrade(config, target, sql=True)
    return output.getvalue()


def _store_error(exc: sa.exc.DBAPIError) -> StoreError:
    original = exc.orig if exc.orig is not None else exc
    text = str(original).strip().splitlines()
    return StoreError(text[0] if text else type(original).__name__)
