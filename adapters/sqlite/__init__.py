"""The embedded SQLite store (WAL, synchronous=FULL by default)."""
