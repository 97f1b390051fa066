"""Oracle backend: python-oracledb thin mode, a driver connection pool, group commit.

Oracle's own ways (see docs/oracle.md): transactions start implicitly; there
is no `RELEASE SAVEPOINT` (a savepoint simply lapses at commit); sequence
values come from `seq.NEXTVAL FROM DUAL`; generated keys come back through
`RETURNING id INTO` an output bind variable; payloads are BLOBs, bound as such
and fetched as bytes.

URLs follow SQLAlchemy's form, so the same URL serves the gateway and Alembic:
`oracle+oracledb://user:password@host:1521/?service_name=FREEPDB1` (a path
after the port is a SID), or `oracle+oracledb://user:password@tns_alias` with
`config_dir`. Query parameters are passed to the driver: `wallet_location`,
`wallet_password`, `config_dir`, `protocol=tcps`, `ssl_server_dn_match`,
`ssl_server_cert_dn`, `tcp_connect_timeout`, `expire_time`, `retry_count`,
`retry_delay`, `https_proxy`, `https_proxy_port`; `pool_min` / `pool_max` size
the pool.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import unquote

import oracledb
from sqlalchemy.dialects.oracle import oracledb as oracle_dialect
from sqlalchemy.engine import Dialect, make_url

from adapters.errors import StoreConflict, StoreError, StoreUnavailable
from adapters.sql.allocations import CounterTable
from adapters.sql.deferred import Params
from adapters.sql.flavor import ExecuteMany
from adapters.sql.session import SqlSession
from adapters.tables.core import SEQUENCES

_SEQUENCE_NAMES = frozenset(seq.name for seq in SEQUENCES.values())
#: Bytes up to this size bind as RAW; longer ones are bound explicitly as BLOB.
RAW_BIND_LIMIT = 2000
RETURNED_ID = "uams_new_id"

#: ORA codes that mean "another transaction got there first": retry the message.
CONFLICT_CODES = frozenset({1, 60, 8177})  # unique constraint, deadlock, cannot serialize
#: ORA codes that mean the database or the session is gone: nothing was committed.
UNAVAILABLE_CODES = frozenset({
    28, 1012, 1033, 1034, 1089, 1090, 1092, 2396, 3113, 3114, 3135, 12153, 12170, 12514,
    12528, 12537, 12541, 12547, 12571, 25408,
})

_INT_OPTIONS = {"port", "expire_time", "retry_count", "retry_delay", "https_proxy_port",
                "pool_min", "pool_max", "sdu", "stmtcachesize"}
_FLOAT_OPTIONS = {"tcp_connect_timeout"}
_BOOL_OPTIONS = {"ssl_server_dn_match", "disable_oob"}
_STR_OPTIONS = {"service_name", "sid", "wallet_location", "wallet_password", "config_dir",
                "protocol", "ssl_server_cert_dn", "https_proxy", "cclass", "edition",
                "program", "machine", "dsn"}


class OracleFlavor(ExecuteMany):
    """What Oracle does its own way (see `adapters.sql.session.Flavor`)."""

    dialect: Dialect = oracle_dialect.dialect()  # type: ignore[no-untyped-call]
    # No implicit `RETURNING id INTO :ret_0` on every INSERT: only `insert_returning_id`
    # asks for the key, with its own output variable.
    dialect.insert_returning = False
    counters: CounterTable | None = None  # real sequences (`next_value`)
    chooses_keys = False  # other nodes insert too: identity keys
    number_block = 0  # one NEXTVAL at a time (its sequences cache 20)
    lazy_savepoints = False  # a savepoint also scopes the row locks taken after it

    def begin(self, cursor: Any) -> None:
        """Oracle opens a transaction with the first change; nothing to send."""

    def savepoint(self, cursor: Any, name: str) -> None:
        cursor.execute(f"SAVEPOINT {name}")

    def release(self, cursor: Any, name: str) -> None:
        """Oracle has no RELEASE SAVEPOINT; re-using the name moves the savepoint."""

    def rollback_to(self, cursor: Any, name: str) -> None:
        cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")

    def next_value(self, cursor: Any, sequence: str) -> int:
        if sequence not in _SEQUENCE_NAMES:
            raise StoreError(f"unknown sequence {sequence!r}")
        cursor.execute(f"SELECT {sequence}.NEXTVAL FROM DUAL")
        return int(cursor.fetchone()[0])

    def next_values(self, cursor: Any, sequence: str, count: int) -> list[int]:
        return [self.next_value(cursor, sequence) for _ in range(count)]

    def insert_returning_id(self, cursor: Any, sql: str, params: Params) -> int:
        new_id = cursor.var(oracledb.DB_TYPE_NUMBER)
        cursor.execute(f"{sql} RETURNING id INTO :{RETURNED_ID}",
                       {**params, RETURNED_ID: new_id})
        value = new_id.getvalue()
        return int(value[0] if isinstance(value, list) else value)


def translate(exc: BaseException) -> StoreError:
    """An oracledb exception as the store's own error."""
    if not isinstance(exc, oracledb.Error):
        return StoreError(repr(exc))
    error = exc.args[0] if exc.args else None
    code = getattr(error, "code", 0)
    message = str(getattr(error, "message", exc)).splitlines()[0]
    if code in CONFLICT_CODES:
        return StoreConflict(message)
    if (code in UNAVAILABLE_CODES or getattr(error, "is_session_dead", False)
            or getattr(error, "isrecoverable", False)
            or isinstance(exc, oracledb.OperationalError | oracledb.InterfaceError)):
        return StoreUnavailable(message)
    return StoreError(message)


def connect_params(url: str) -> dict[str, Any]:
    """Driver keyword arguments for a `oracle+oracledb://` URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "oracle":
        raise ValueError("Oracle URLs look like oracle+oracledb://user:pw@host:1521/?service_name=X")
    params: dict[str, Any] = {}
    if parsed.username:
        params["user"] = unquote(parsed.username)
    if parsed.password:
        params["password"] = str(parsed.password)
    if parsed.host and parsed.port is None and not parsed.database and \
            "service_name" not in parsed.query:
        params["dsn"] = parsed.host          # a TNS alias or an Easy Connect string
    elif parsed.host:
        params["host"] = parsed.host
        params["port"] = parsed.port or 1521
        if parsed.database:
            params["sid"] = parsed.database
    for key, raw in parsed.query.items():
        value = raw[-1] if isinstance(raw, tuple) else raw
        params[key] = _option(key, value)
    return params


def _option(key: str, value: str) -> Any:
    if key in _INT_OPTIONS:
        return int(value)
    if key in _FLOAT_OPTIONS:
        return float(value)
    if key in _BOOL_OPTIONS:
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"Oracle URL option {key} must be true or false")
        return value.lower() in ("true", "1", "yes")
    if key in _STR_OPTIONS:
        return value
    raise ValueError(f"unknown Oracle URL option {key!r}")


def _blob_handler(cursor: Any, metadata: Any) -> Any:
    """Fetch BLOBs as bytes and CLOBs as str instead of LOB locators."""
    if metadata.type_code is oracledb.DB_TYPE_BLOB:
        return cursor.var(oracledb.DB_TYPE_LONG_RAW, arraysize=cursor.arraysize)
    if metadata.type_code is oracledb.DB_TYPE_CLOB:
        return cursor.var(oracledb.DB_TYPE_LONG, arraysize=cursor.arraysize)
    return None


class _BlobCursor:
    """A cursor that binds long `bytes` values as BLOB (RAW binds stop at 2000 bytes)."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def _sizes(self, params: Params) -> None:
        blobs = {k: oracledb.DB_TYPE_BLOB for k, v in params.items()
                 if isinstance(v, bytes | bytearray) and len(v) > RAW_BIND_LIMIT}
        if blobs:
            self._cursor.setinputsizes(**blobs)

    def execute(self, sql: str, params: Params | None = None) -> Any:
        if params:
            self._sizes(params)
        return self._cursor.execute(sql, params or {})

    def executemany(self, sql: str, rows: list[Params]) -> Any:
        blob_keys = {k for row in rows for k, v in row.items() if isinstance(v, bytes | bytearray)}
        if blob_keys:
            self._cursor.setinputsizes(**{k: oracledb.DB_TYPE_BLOB for k in blob_keys})
        return self._cursor.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _OracleConnection:
    """What `SqlSession` holds: a pooled connection whose cursors bind BLOBs properly."""

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    def cursor(self) -> _BlobCursor:
        return _BlobCursor(self.raw.cursor())

    def commit(self) -> None:
        self.raw.commit()

    def rollback(self) -> None:
        self.raw.rollback()

    def close(self) -> None:
        self.raw.close()  # a pooled connection goes back to its pool


class OracleStore:
    """An Oracle database shared by every gateway process and node."""

    dialect_name = "oracle"

    def __init__(self, url: str) -> None:
        self.url = url
        params = connect_params(url)
        self._pool_min = int(params.pop("pool_min", 1))
        self._pool_max = int(params.pop("pool_max", 4))
        self._params = params
        self._pool: Any = None

    def _get_pool(self) -> Any:
        if self._pool is None:
            self._pool = oracledb.create_pool(
                min=self._pool_min, max=self._pool_max, increment=1,
                getmode=oracledb.POOL_GETMODE_TIMEDWAIT, wait_timeout=5000,
                ping_interval=30, program="uams-gateway", **self._params)
        return self._pool

    def raw_connection(self) -> Any:
        """A standalone driver connection, for SQLAlchemy/Alembic."""
        try:
            conn = oracledb.connect(**self._params)
        except oracledb.Error as exc:
            raise translate(exc) from exc
        conn.outputtypehandler = _blob_handler
        return conn

    def prepare(self) -> None:
        """Refuse a database whose schema is not at this gateway's revision."""
        from adapters.migrations import require_current

        require_current(self)

    def open_session(self) -> SqlSession:
        try:
            conn = self._get_pool().acquire()
        except oracledb.Error as exc:
            raise translate(exc) from exc
        conn.outputtypehandler = _blob_handler
        return SqlSession(_OracleConnection(conn), OracleFlavor(), translate)

    def close(self) -> None:
        if self._pool is not None:
            with contextlib.suppress(oracledb.Error):
                self._pool.close(force=True)
            self._pool = None
