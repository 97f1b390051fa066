"""Alembic environment: run by `adapters.migrations` (connection handed over in
`config.attributes`), or by the alembic command with `-x url=<store URL>`."""

from __future__ import annotations

from typing import Any

from alembic import context

from adapters.migrations import lock_for_migration
from adapters.tables import metadata


def _configure_common() -> dict[str, Any]:
    return {"target_metadata": metadata, "compare_type": True}


def run_offline() -> None:
    config = context.config
    dialect_name = config.attributes.get("dialect_name") or config.get_main_option("dialect_name")
    context.configure(dialect_name=dialect_name, literal_binds=True,
                      output_buffer=config.output_buffer, **_configure_common())
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Any) -> None:
    context.configure(connection=connection, **_configure_common())
    with context.begin_transaction():
        # Several nodes may start `db upgrade` at once: one migrates, the others wait.
        lock_for_migration(connection)
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("name the database: alembic -x url=<store URL> ...")
    from adapters.migrations import engine_for
    from adapters.store import open_store

    store = open_store(url)
    engine = engine_for(store)
    try:
        with engine.connect() as conn:
            _run_on(conn)
            conn.commit()
    finally:
        engine.dispose()
        store.close()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
