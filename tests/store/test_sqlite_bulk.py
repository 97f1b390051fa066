"""SQLite's bulk insert: queued rows go in as multi-row INSERT statements, exactly as given."""

from __future__ import annotations

import sqlite3

import pytest

from adapters.sqlite.bulk import CHUNKS, MultiRowInsert

ONE_ROW = "INSERT INTO items (id, name, weight) VALUES (:id, :name, :weight)"


@pytest.fixture
def cursor() -> sqlite3.Cursor:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, weight REAL)")
    return conn.cursor()


class CountingCursor:
    """Records the statements a bulk insert runs, and runs them."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.cursor = cursor
        self.connection = cursor.connection
        self.executes: list[int] = []  # rows per execute()
        self.executemany_rows = 0

    def execute(self, sql: str, values: list[object]) -> None:
        self.executes.append(sql.count("("))  # the column list, then one per row
        self.cursor.execute(sql, values)

    def executemany(self, sql: str, rows: list[dict[str, object]]) -> None:
        self.executemany_rows += len(rows)
        self.cursor.executemany(sql, rows)


def rows(count: int) -> list[dict[str, object]]:
    return [{"weight": i / 4 if i % 3 else None, "id": i, "name": f"item {i}"}
            for i in range(1, count + 1)]


@pytest.mark.parametrize("count", [2, 3, 4, 5, 17, 255, 256, 257, 341, 600])
def test_every_row_is_written_once_with_its_own_values(cursor: sqlite3.Cursor,
                                                        count: int) -> None:
    given = rows(count)
    MultiRowInsert().insert_rows(cursor, ONE_ROW, given)
    stored = cursor.execute("SELECT id, name, weight FROM items ORDER BY id").fetchall()
    assert stored == [(r["id"], r["name"], r["weight"]) for r in given]


def test_rows_go_in_fixed_size_chunks_largest_first(cursor: sqlite3.Cursor) -> None:
    counting = CountingCursor(cursor)
    MultiRowInsert().insert_rows(counting, ONE_ROW, rows(256 + 64 + 2 * 16 + 3 * 4 + 3))
    assert [n - 1 for n in counting.executes] == [256, 64, 16, 16, 4, 4, 4, 1, 1, 1]
    assert set(n - 1 for n in counting.executes) <= set(CHUNKS)


def test_a_single_row_is_a_plain_execute_of_the_one_row_text(cursor: sqlite3.Cursor) -> None:
    counting = CountingCursor(cursor)
    MultiRowInsert().insert_rows(counting, ONE_ROW, rows(1))
    assert counting.executemany_rows == 1 and counting.executes == []


@pytest.mark.parametrize("sql", [
    "INSERT INTO items (id, name, weight) VALUES (?, ?, ?)",
    "INSERT INTO items (id, name, weight) VALUES (:id, :name, upper(:weight))",
    "INSERT INTO items (id, name, weight) SELECT :id, :name, :weight",
])
def test_a_text_that_is_not_a_plain_named_one_row_insert_uses_executemany(
        cursor: sqlite3.Cursor, sql: str) -> None:
    counting = CountingCursor(cursor)
    given = rows(5)
    params = [tuple(r[k] for k in ("id", "name", "weight")) for r in given] if "?" in sql \
        else given
    MultiRowInsert().insert_rows(counting, sql, params)  # type: ignore[arg-type]
    assert counting.executes == [] and counting.executemany_rows == 5
    assert cursor.execute("SELECT count(*) FROM items").fetchone() == (5,)


def test_a_constraint_violation_is_the_driver_error_and_the_failing_chunk_writes_nothing(
        cursor: sqlite3.Cursor) -> None:
    given = rows(4)
    given[2]["id"] = 1  # the key of the first row, again
    with pytest.raises(sqlite3.IntegrityError):
        MultiRowInsert().insert_rows(cursor, ONE_ROW, given)
    assert cursor.execute("SELECT count(*) FROM items").fetchone() == (0,)


def test_chunks_bind_no_more_values_than_the_connections_sqlite_allows() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, weight REAL)")
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 50)  # an old library's small limit
    counting = CountingCursor(conn.cursor())
    given = rows(40)
    MultiRowInsert().insert_rows(counting, ONE_ROW, given)
    assert max(counting.executes) - 1 == 16  # 16 rows × 3 values fit in 50; 64 rows do not
    stored = conn.execute("SELECT id, name, weight FROM items ORDER BY id").fetchall()
    assert stored == [(r["id"], r["name"], r["weight"]) for r in given]
