"""Times of the transport and enforcement messages, as the store keeps them.

The schema guarantees `xs:dateTime` with a zone; these turn such a value into
the store's UTC text and into a calendar date in the gateway's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any


def parse_time(value: str) -> datetime:
    """A schema-valid time (zone mandatory) as an aware datetime (fractions past µs dropped)."""
    head, dot, rest = value.partition(".")
    if dot:  # Python keeps at most six fraction digits
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[:min(digits, 6)] + rest[digits:]
        value = f"{head}.{rest}"
    return datetime.fromisoformat(value)


def utc_text(value: str) -> str:
    """`2026-12-04T05:12:00.000000Z` for `2026-12-04T09:12:00+04:00`."""
    return parse_time(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_date(value: str, zone: tzinfo) -> str:
    """The calendar date of a time in `zone`, `YYYY-MM-DD`."""
    return parse_time(value).astimezone(zone).date().isoformat()


def gateway_zone(extras: dict[str, Any]) -> tzinfo:
    """The gateway's configured time zone, as the pipeline hands it to handlers."""
    zone = extras.get("zone")
    return zone if isinstance(zone, tzinfo) else UTC
