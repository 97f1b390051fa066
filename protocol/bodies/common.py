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


def scaled(text: str, digits: int) -> int:
    """A schema-valid xs:decimal times 10**digits, as an integer (half-even rounding).

    Plain "123.45" forms are converted with integer arithmetic (this runs a dozen
    times per declaration); anything else goes through `Decimal`.
    """
    whole, dot, fraction = text.partition(".")
    if (text.isascii() and whole.isdigit() and (fraction.isdigit() or not dot)
            and len(fraction) <= digits):
        return int(whole + fraction.ljust(digits, "0"))
    return int((Decimal(text).scaleb(digits)).to_integral_value())


def minor_units(text: str) -> int:
    """An `amount` (≤ 2 fraction digits) as an integer number of cents."""
    return scaled(text, 2)


def grams(text: str) -> int:
    """A mass in kg as integer grams."""
    return scaled(text, 3)


def format_minor_units(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"
