"""The store interface every backend implements, and the factory that picks one by URL."""

from __future__ import annotations

from typing import Any, Protocol

from adapters.sql.session import SqlSession


class Store(Protocol):
    """A database the gateway keeps everything in.

    `open_session` gives a new connection for the calling thread; the
    group-commit writer holds one for its life and opens another after
    `StoreUnavailable`.
    """

    url: str
    dialect_name: str

    def prepare(self) -> None:
        """Make sure the schema is there and at the expected revision (may create it)."""

    def open_session(self) -> SqlSession: ...

    def raw_connection(self) -> Any:
        """A plain driver connection (driver-managed transactions), for SQLAlchemy/Alembic."""

    def close(self) -> None: ...


def open_store(url: str, *, sqlite_synchronous: str = "FULL") -> Store:
    """The store for a URL: `sqlite:///path`, `postgresql://…`, `oracle+oracledb://…`."""
    scheme = url.split(":", 1)[0].lower()
    if scheme.startswith("sqlite"):
        from adapters.sqlite.store import SqliteStore

        return SqliteStore(url, synchronous=sqlite_synchronous)
    if scheme.startswith("postgres"):
        from adapters.postgres.store import PostgresStore

        store: Store = PostgresStore(url)
        return store
    if scheme.startswith("oracle"):
        from adapters.oracle.store import OracleStore

        store = OracleStore(url)
        return store
    raise ValueError(f"unsupported store URL scheme {scheme!r}")
