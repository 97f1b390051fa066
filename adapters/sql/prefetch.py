"""Reading a whole batch's keys in one query instead of one query per message.

The group-commit writer knows every message of a batch before it applies the
first one, so the lookups each handler would make by a two-part key (a
message's sender and MessageId, a declaration's declarant and LRN) are made
once per batch: `SELECT … WHERE (a = :a0 AND b = :b0) OR (a = :a1 AND b = :b1) …`.
The number of pairs is padded to a power of two (repeating the last pair), so
that only a few statement shapes are compiled and cached per backend.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

#: Pairs per query (SQLite allows 32,766 parameters, Oracle 65,535).
CHUNK = 512

Pair = tuple[str, str]


def chunks(keys: Sequence[Pair]) -> Iterator[list[Pair]]:
    """The distinct keys, in order, in chunks of at most `CHUNK`."""
    distinct = list(dict.fromkeys(keys))
    for start in range(0, len(distinct), CHUNK):
        yield distinct[start:start + CHUNK]


def padded(count: int) -> int:
    """The next power of two."""
    size = 1
    while size < count:
        size *= 2
    return size


def lookup(columns: tuple[sa.ColumnElement[Any], ...], first: sa.Column[Any],
           second: sa.Column[Any], chunk: Sequence[Pair]) -> tuple[sa.Select[Any], dict[str, str]]:
    """The statement and parameters that select `columns` for every pair of `chunk`."""
    size = padded(len(chunk))
    params: dict[str, str] = {}
    for i in range(size):
        params[f"k{i}a"], params[f"k{i}b"] = chunk[min(i, len(chunk) - 1)]
    return _statement(columns, first, second, size), params


@functools.cache
def _statement(columns: tuple[sa.ColumnElement[Any], ...], first: sa.Column[Any],
               second: sa.Column[Any], size: int) -> sa.Select[Any]:
    pairs = [sa.and_(first == sa.bindparam(f"k{i}a"), second == sa.bindparam(f"k{i}b"))
             for i in range(size)]
    return sa.select(*columns).where(sa.or_(*pairs))
