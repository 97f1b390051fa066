"""Reading helpers shared by the body readers."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree


def child_text(el: etree._Element, tag: str) -> str:
    found = el.find(tag)
    return (found.text or "").strip() if found is not None else ""


def optional_text(el: etree._Element, tag: str) -> str | None:
    found = el.find(tag)
    return (found.text or "").strip() if found is not None else None


def minor_units(text: str) -> int:
    """An `amount` (≤ 2 fraction digits) as an integer number of cents."""
    return int((Decimal(text) * 100).to_integral_value())


def grams(text: str) -> int:
    """A mass in kg as integer grams."""
    return int((Decimal(text) * 1000).to_integral_value())


def format_minor_units(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"
