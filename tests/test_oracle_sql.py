"""The Oracle adapter without an Oracle server: the DDL of the migrations and every
statement of the store, compiled for Oracle exactly as the adapter runs them, use only
SQL Oracle has; the adapter's own SQL, error translation, URLs and BLOB binding are
checked against a recording cursor. (With `UAMS_TEST_ORACLE_URL` set, the store
conformance suite in tests/store also runs against a live Oracle.)"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import SimpleNamespace
from typing import Any

import oracledb
import pytest
import sqlalchemy as sa

import adapters.repositories
from adapters import migrations
from adapters.errors import StoreConflict, StoreError, StoreUnavailable
from adapters.oracle.store import (
    RETURNED_ID,
    OracleFlavor,
    _BlobCursor,
    connect_params,
    translate,
)
from adapters.sql.statements import compile_sql
from adapters.tables import metadata
from adapters.tables.core import SEQUENCES
from gateway import retention
from tests.store.oracle_checks import ORACLE_RESERVED, problems_for_oracle, problems_in_sql

MAX_IDENTIFIER = 128  # Oracle 12.2 and later (the adapter needs 19c: identity columns, FETCH)


def module_statements() -> dict[str, Any]:
    """Every Core statement defined by the store's modules (also inside tuples)."""
    modules = [importlib.import_module(f"adapters.repositories.{m.name}")
               for m in pkgutil.iter_modules(adapters.repositories.__path__)]
    found: dict[str, Any] = {}
    for module in [*modules, retention]:
        for name, value in vars(module).items():
            for n, item in enumerate(value if isinstance(value, tuple | list) else [value]):
                if isinstance(item, sa.sql.ClauseElement) and not isinstance(
                        item, sa.Table | sa.Column | sa.sql.ColumnElement):
                    found[f"{module.__name__}.{name}[{n}]"] = item
    found["gateway.retention._candidates(500)"] = retention._candidates(500)
    return found


def test_every_store_statement_is_oracle_sql() -> None:
    statements = module_statements()
    assert len(statements) > 40
    problems = {name: problems_for_oracle(stmt) for name, stmt in statements.items()}
    assert {name: p for name, p in problems.items() if p} == {}


def test_the_checks_catch_what_oracle_lacks() -> None:
    """The checker itself: each construct Oracle refuses is reported."""
    assert problems_in_sql("SELECT a FROM t ORDER BY a LIMIT :n")
    assert problems_in_sql("INSERT INTO t (a) VALUES (:a) ON CONFLICT DO NOTHING")
    assert problems_in_sql("SELECT a FROM t WHERE flag = true")
    assert problems_in_sql("INSERT INTO t (a) VALUES (:a) RETURNING id")
    assert problems_in_sql("SELECT a FROM t WHERE a = %(a)s")
    assert problems_in_sql("SELECT a FROM t WHERE a = :level")
    assert problems_in_sql("SELECT a::VARCHAR FROM t")
    assert not problems_in_sql('SELECT a FROM t WHERE "number" = :"number" '
                               "ORDER BY a FETCH FIRST 1 ROWS ONLY")


def test_limits_render_as_fetch_first_and_claims_skip_locked() -> None:
    from adapters.repositories import core, outbox

    latest = compile_sql(core._latest, OracleFlavor.dialect)
    assert "FETCH FIRST 1 ROWS ONLY" in latest.text
    claim = compile_sql(outbox._claim, OracleFlavor.dialect)
    assert claim.text.rstrip().endswith("FOR UPDATE SKIP LOCKED")
    paged = compile_sql(outbox._unacknowledged, OracleFlavor.dialect)
    assert "FETCH FIRST :limit ROWS ONLY" in paged.text


def test_seq_allocation_locks_reads_and_writes_back_in_oracle_sql() -> None:
    """The per-transaction Seq allocation (adapters/sql/allocations.py): a locking read of
    the recipients' rows, a key's first row, and the one write-back UPDATE."""
    from adapters.repositories.outbox import SEQS

    for stmt in (SEQS.read(1), SEQS.read(3), SEQS.insert, SEQS.write):
        assert problems_for_oracle(stmt) == [], str(stmt)
    def oracle_sql(stmt: Any) -> str:
        return " ".join(compile_sql(stmt, OracleFlavor.dialect).text.split())

    assert oracle_sql(SEQS.read(3)) == (
        "SELECT recipient_sequences.recipient_id, recipient_sequences.last_seq "
        "FROM recipient_sequences WHERE recipient_sequences.recipient_id "
        "IN (:alloc_key0, :alloc_key1, :alloc_key2) FOR UPDATE")
    assert oracle_sql(SEQS.write) == ("UPDATE recipient_sequences SET last_seq=:alloc_value "
                                      "WHERE recipient_sequences.recipient_id = :alloc_key")
    assert oracle_sql(SEQS.insert) == ("INSERT INTO recipient_sequences (recipient_id, last_seq) "
                                       "VALUES (:alloc_key, :alloc_value)")
    assert OracleFlavor.counters is None  # registration numbers stay real sequences


def test_batch_lookups_are_oracle_sql() -> None:
    """The writer's batch reads (adapters/sql/prefetch.py) of prior messages and of LRNs, and
    the flavor keeps keys generated at insert and numbers one NEXTVAL at a time."""
    from adapters.repositories import core, declarations
    from adapters.sql import prefetch

    pairs = [("BRK-0001", "m-1"), ("BRK-0001", "m-2"), ("TRD-0001", "m-1")]
    stmt, params = prefetch.lookup(core._PRIOR_COLUMNS, core.messages.c.sender_id,
                                   core.messages.c.message_id, pairs)
    lrns, _ = prefetch.lookup(declarations._state_columns, declarations.d.declarant_id,
                              declarations.d.lrn, pairs)
    assert problems_for_oracle(stmt) == [] and problems_for_oracle(lrns) == []
    text = " ".join(compile_sql(stmt, OracleFlavor.dialect).text.split())
    assert text.count(" OR ") == 3, "three pairs padded to four"
    assert "messages.sender_id = :k3a AND messages.message_id = :k3b" in text
    assert (params["k3a"], params["k3b"]) == pairs[-1], "the padding repeats the last pair"
    assert (OracleFlavor.chooses_keys, OracleFlavor.number_block) == (False, 0)


def test_reserved_word_binds_are_escaped_for_the_driver() -> None:
    from adapters.repositories import declarations

    compiled = compile_sql(declarations._by_number, OracleFlavor.dialect)
    assert ':"number"' in compiled.text
    assert compiled.renames == {"number": '"number"'}


# -- DDL --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ddl() -> str:
    return migrations.offline_sql("oracle")


def test_migration_ddl_creates_every_table_and_sequence(ddl: str) -> None:
    for table in metadata.sorted_tables:
        assert re.search(rf"CREATE TABLE {table.name} \(", ddl), table.name
    for seq in SEQUENCES.values():
        assert re.search(rf"CREATE SEQUENCE {seq.name} START WITH 1 CACHE 20", ddl), seq.name


def test_migration_ddl_uses_oracle_types(ddl: str) -> None:
    assert problems_in_sql(ddl.replace("\n/\n", "\n")) == []
    assert re.search(r"\bpayload BLOB NOT NULL", ddl)
    assert "GENERATED BY DEFAULT AS IDENTITY" in ddl
    for table in metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key:
            block = ddl[ddl.index(f"CREATE TABLE {table.name} ("):]
            assert block.split("\n")[1].strip().startswith(
                "id NUMBER(19) GENERATED BY DEFAULT AS IDENTITY"), table.name
    for size in re.findall(r"VARCHAR2\((\d+) CHAR\)", ddl):
        assert int(size) <= 4000  # MAX_STRING_SIZE = STANDARD
    for forbidden in ("TEXT", "BYTEA", "DOUBLE PRECISION", "TIMESTAMP WITH"):
        assert not re.search(rf"\b{forbidden}\b", problems_free(ddl)), forbidden


def problems_free(ddl: str) -> str:
    """DDL without comments (alembic writes `-- Running upgrade` lines)."""
    return "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))


def test_identifiers_fit_and_reserved_words_are_quoted(ddl: str) -> None:
    names = {t.name for t in metadata.sorted_tables}
    names |= {c.name for t in metadata.sorted_tables for c in t.columns}
    names |= {str(i.name) for t in metadata.sorted_tables for i in t.indexes}
    names |= {str(c.name) for t in metadata.sorted_tables for c in t.constraints if c.name}
    names |= {s.name for s in SEQUENCES.values()}
    assert [n for n in names if len(n) > MAX_IDENTIFIER] == []
    for name in names:
        if name.upper() in ORACLE_RESERVED:
            assert f'"{name}"' in ddl, f"{name} is reserved in Oracle and must be quoted"
            assert not re.search(rf"[(,]\s*{name}\b", ddl), f"{name} appears unquoted"


# -- the adapter's own SQL ------------------------------------------------------------------


class RecordingCursor:
    """Stands in for an oracledb cursor: records what the adapter sends."""

    def __init__(self, rows: list[tuple[Any, ...]] | None = None) -> None:
        self.executed: list[tuple[str, Any]] = []
        self.input_sizes: list[dict[str, Any]] = []
        self._rows = rows or []
        self.arraysize = 100

    def execute(self, sql: str, params: Any = None) -> None:
        self.executed.append((sql, params))

    def executemany(self, sql: str, rows: Any) -> None:
        self.executed.append((sql, rows))

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def setinputsizes(self, **sizes: Any) -> None:
        self.input_sizes.append(sizes)

    def var(self, kind: Any, arraysize: int = 1) -> Any:
        return SimpleNamespace(kind=kind, getvalue=lambda: [42])


def test_flavor_transactions_sequences_and_generated_keys() -> None:
    flavor = OracleFlavor()
    cursor = RecordingCursor(rows=[(7,)])
    flavor.begin(cursor)
    flavor.savepoint(cursor, "msg")
    flavor.release(cursor, "msg")
    flavor.rollback_to(cursor, "msg")
    assert flavor.next_value(cursor, "declaration_number_seq") == 7
    with pytest.raises(StoreError):
        flavor.next_value(cursor, "x; DROP TABLE messages")
    new_id = flavor.insert_returning_id(cursor, "INSERT INTO t (a) VALUES (:a)", {"a": 1})
    assert new_id == 42
    sqls = [sql for sql, _ in cursor.executed]
    assert sqls == [
        "SAVEPOINT msg",  # no BEGIN: Oracle starts transactions by itself
        "ROLLBACK TO SAVEPOINT msg",  # no RELEASE SAVEPOINT in Oracle
        "SELECT declaration_number_seq.NEXTVAL FROM DUAL",
        f"INSERT INTO t (a) VALUES (:a) RETURNING id INTO :{RETURNED_ID}",
    ]
    assert set(cursor.executed[-1][1]) == {"a", RETURNED_ID}
    assert problems_in_sql(sqls[-1]) == []


def test_long_payloads_bind_as_blob() -> None:
    raw = RecordingCursor()
    cursor = _BlobCursor(raw)
    cursor.execute("INSERT INTO p (payload) VALUES (:payload)", {"payload": b"x" * 10})
    assert raw.input_sizes == []
    cursor.execute("INSERT INTO p (payload) VALUES (:payload)", {"payload": b"x" * 100_000})
    assert raw.input_sizes == [{"payload": oracledb.DB_TYPE_BLOB}]
    cursor.executemany("INSERT INTO p (payload) VALUES (:payload)", [{"payload": b"x"}])
    assert raw.input_sizes[-1] == {"payload": oracledb.DB_TYPE_BLOB}


def _oracle_error(kind: type[oracledb.Error], code: int, text: str) -> oracledb.Error:
    return kind(SimpleNamespace(code=code, message=text, isrecoverable=False,
                                is_session_dead=False))


@pytest.mark.parametrize(("kind", "code", "expected"), [
    (oracledb.IntegrityError, 1, StoreConflict),            # unique constraint violated
    (oracledb.DatabaseError, 60, StoreConflict),            # deadlock detected
    (oracledb.DatabaseError, 8177, StoreConflict),          # cannot serialize
    (oracledb.DatabaseError, 3113, StoreUnavailable),       # end-of-file on channel
    (oracledb.DatabaseError, 1089, StoreUnavailable),       # immediate shutdown
    (oracledb.DatabaseError, 12541, StoreUnavailable),      # no listener
    (oracledb.OperationalError, 0, StoreUnavailable),       # DPY-6005 cannot connect
    (oracledb.InterfaceError, 0, StoreUnavailable),         # DPY-1001 not connected
    (oracledb.DatabaseError, 942, StoreError),              # table or view does not exist
])
def test_driver_errors_become_store_errors(kind: type[oracledb.Error], code: int,
                                           expected: type[StoreError]) -> None:
    translated = translate(_oracle_error(kind, code, f"ORA-{code:05}: text\nHelp: …"))
    assert type(translated) is expected
    assert "\n" not in str(translated)


def test_session_dead_means_unavailable() -> None:
    dead = oracledb.DatabaseError(SimpleNamespace(code=0, message="DPY-4011: closed",
                                                  isrecoverable=False, is_session_dead=True))
    assert isinstance(translate(dead), StoreUnavailable)


@pytest.mark.parametrize(("url", "expected"), [
    ("oracle+oracledb://uams:s3cret@db.example:1521/?service_name=UAMSPDB",
     {"user": "uams", "password": "s3cret", "host": "db.example", "port": 1521,
      "service_name": "UAMSPDB"}),
    ("oracle+oracledb://uams:p%40ss@db.example:2484/?service_name=UAMS&protocol=tcps"
     "&wallet_location=/etc/uams/wallet&ssl_server_dn_match=true",
     {"user": "uams", "password": "p@ss", "host": "db.example", "port": 2484,
      "service_name": "UAMS", "protocol": "tcps", "wallet_location": "/etc/uams/wallet",
      "ssl_server_dn_match": True}),
    ("oracle+oracledb://uams:pw@uams_high?config_dir=/etc/uams/tns",
     {"user": "uams", "password": "pw", "dsn": "uams_high", "config_dir": "/etc/uams/tns"}),
    ("oracle+oracledb://uams:pw@db.example/ORCL",
     {"user": "uams", "password": "pw", "host": "db.example", "port": 1521, "sid": "ORCL"}),
])
def test_urls_become_driver_parameters(url: str, expected: dict[str, Any]) -> None:
    assert connect_params(url) == expected


def test_unknown_url_options_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown Oracle URL option"):
        connect_params("oracle+oracledb://u:p@h:1521/?service_name=X&sslmode=require")
