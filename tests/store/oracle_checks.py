"""What Oracle refuses, checked on compiled SQL (no Oracle server is needed to look).

The statements are compiled exactly as the Oracle store runs them
(`compile_sql` with `OracleFlavor.dialect`), then searched for SQL that Oracle
lacks or spells differently.
"""

from __future__ import annotations

import re
from typing import Any

from adapters.oracle.store import OracleFlavor
from adapters.sql.statements import compile_sql

#: Oracle's reserved words (V$RESERVED_WORDS where RESERVED = 'Y'): never an unquoted name.
_RESERVED_WORDS = """
ACCESS ADD ALL ALTER AND ANY AS ASC AUDIT BETWEEN BY CHAR CHECK CLUSTER COLUMN COMMENT COMPRESS
CONNECT CREATE CURRENT DATE DECIMAL DEFAULT DELETE DESC DISTINCT DROP ELSE EXCLUSIVE EXISTS FILE
FLOAT FOR FROM GRANT GROUP HAVING IDENTIFIED IMMEDIATE IN INCREMENT INDEX INITIAL INSERT INTEGER
INTERSECT INTO IS LEVEL LIKE LOCK LONG MAXEXTENTS MINUS MLSLABEL MODE MODIFY NOAUDIT NOCOMPRESS
NOT NOWAIT NULL NUMBER OF OFFLINE ON ONLINE OPTION OR ORDER PCTFREE PRIOR PUBLIC RAW RENAME
RESOURCE REVOKE ROW ROWID ROWNUM ROWS SELECT SESSION SET SHARE SIZE SMALLINT START SUCCESSFUL
SYNONYM SYSDATE TABLE THEN TO TRIGGER UID UNION UNIQUE UPDATE USER VALIDATE VALUES VARCHAR
VARCHAR2 VIEW WHENEVER WHERE WITH
"""
ORACLE_RESERVED = frozenset(_RESERVED_WORDS.split())

#: Bind variable names: at most 30 bytes in every Oracle release.
MAX_BIND_NAME = 30

_FORBIDDEN = [
    (re.compile(r"\bLIMIT\b"), "LIMIT (Oracle: FETCH FIRST n ROWS ONLY)"),
    (re.compile(r"\bON\s+CONFLICT\b"), "ON CONFLICT (Oracle: insert and catch ORA-00001)"),
    (re.compile(r"\bON\s+DUPLICATE\s+KEY\b"), "ON DUPLICATE KEY"),
    (re.compile(r"\b(TRUE|FALSE)\b"), "a boolean literal (no BOOLEAN before 23c)"),
    (re.compile(r"\bBOOLEAN\b"), "the BOOLEAN type (not before 23c)"),
    (re.compile(r"\bILIKE\b"), "ILIKE"),
    (re.compile(r"\bIS\s+(NOT\s+)?DISTINCT\s+FROM\b"), "IS DISTINCT FROM (23c only)"),
    (re.compile(r"::"), "a PostgreSQL cast"),
    (re.compile(r"%\(|%s|\?"), "a bind style other than :name"),
    (re.compile(r"__\[POSTCOMPILE"), "an unrendered late parameter"),
    (re.compile(r"\bSERIAL\b|\bAUTOINCREMENT\b|\bBYTEA\b"), "a type Oracle lacks"),
    (re.compile(r"\bIF\s+(NOT\s+)?EXISTS\b"), "IF [NOT] EXISTS (23c only)"),
]
_RETURNING = re.compile(r"\bRETURNING\b(?![^;]*\bINTO\b)")
_BIND = re.compile(r':("?)([A-Za-z_][A-Za-z0-9_$#]*)\1')
_QUOTED = re.compile(r"\"[^\"]*\"|'(?:[^']|'')*'")


def unquoted(sql: str) -> str:
    """The SQL with quoted identifiers and string literals blanked out."""
    return _QUOTED.sub(" ", sql)


def problems_in_sql(sql: str) -> list[str]:
    """What in this Oracle SQL text Oracle would refuse."""
    bare = unquoted(_BIND.sub(" ", sql)).upper()
    problems = [why for pattern, why in _FORBIDDEN if pattern.search(bare)]
    if _RETURNING.search(bare):
        problems.append("RETURNING without INTO (Oracle returns into output binds)")
    for quoted, name in _BIND.findall(sql):
        if len(name.encode()) > MAX_BIND_NAME:
            problems.append(f"bind name :{name} longer than {MAX_BIND_NAME} bytes")
        if not quoted and name.upper() in ORACLE_RESERVED:
            problems.append(f"bind name :{name} is an Oracle reserved word")
    return problems


def problems_for_oracle(stmt: Any) -> list[str]:
    """Compile a statement as the Oracle store would, and list what Oracle would refuse."""
    compiled = compile_sql(stmt, OracleFlavor.dialect)
    problems = problems_in_sql(compiled.text)
    sent = {name if not quoted else f'"{name}"' for quoted, name in _BIND.findall(compiled.text)}
    known = set(compiled.constants) | {compiled.renames.get(k, k)
                                       for k in stmt.compile(dialect=OracleFlavor.dialect).binds}
    if sent - known:
        problems.append(f"binds the session would not fill: {sorted(sent - known)}")
    return problems
