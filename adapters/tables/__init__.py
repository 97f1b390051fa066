"""The one logical schema of every store, in SQLAlchemy Core.

Conventions that keep the schema portable across SQLite, PostgreSQL and Oracle:
- timestamps are UTC text `YYYY-MM-DDTHH:MM:SS.ffffffZ` (sorts and compares as time);
  calendar dates are text `YYYY-MM-DD` in the gateway's configured time zone;
- money is an integer number of minor units (cents): exact sums in every backend;
  masses are integer grams;
- flags are small integers 0/1 (no BOOLEAN before Oracle 23c);
- registration numbers come from sequences (a counter table on SQLite).
Each area of the domain has its own module; all share `metadata`.
"""

# imported to register their tables
from adapters.tables import (  # noqa: F401
    certificates,
    core,
    declarations,
    enforcement,
    outbox,
    transport,
)
from adapters.tables.base import metadata

__all__ = ["metadata"]
