"""What the international mappings share: defaults, value normalisers, element building."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from protocol.errors import BusinessRuleViolation, Detail, SchemaInvalid

TEXT_MAX = 512
NUMBER35_MAX = 35
UNKNOWN_COUNTRY = "ZZ"   # ISO 3166 user-assigned: "unknown or unspecified country"
NO_CURRENCY = "XXX"      # ISO 4217: "no currency"

_TAX_ID = re.compile(r"(?:AZ)?([0-9]{10})")
_COUNTRY = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_OFFICE_ID = re.compile(r"[A-Z0-9-]{2,32}")
_NOT_DIGIT = re.compile(r"[^0-9]")


@dataclass(frozen=True, slots=True)
class MappingDefaults:
    """Values the mappings use where a foreign document has nothing that fits.

    `fallback_tax_id`: the consignee tax id when the document names no 10-digit
    (Azerbaijani) tax id; `fallback_office`: the customs office when none is named;
    `sps_validity_days`: ValidUntil = IssuedAt's date + this many days (SPS
    certificates carry no validity period).
    """

    fallback_tax_id: str = "0000000000"
    fallback_office: str = "AZ-INTL"
    sps_validity_days: int = 30

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9]{10}", self.fallback_tax_id):
            raise ValueError("fallback_tax_id must be 10 digits")
        if not _OFFICE_ID.fullmatch(self.fallback_office):
            raise ValueError("fallback_office must be 2 to 32 characters A-Z, 0-9 or '-'")
        if not 1 <= self.sps_validity_days <= 3660:
            raise ValueError("sps_validity_days must be between 1 and 3660")


def unsupported(path: str, text: str) -> SchemaInvalid:
    """The foreign document lacks (or has unusable) data the mapping requires."""
    return SchemaInvalid([Detail(text=text, path=path)])


def refused(rule: str, path: str, text: str) -> BusinessRuleViolation:
    """The foreign document is valid but not something the Single Window registers."""
    return BusinessRuleViolation([Detail(text=text, path=path, rule=rule)])


def text_of(el: etree._Element | None) -> str | None:
    """Stripped text of an element; None when absent or empty."""
    if el is None:
        return None
    value = (el.text or "").strip()
    return value or None


def first_text(parent: etree._Element, paths: Iterable[str],
               namespaces: dict[str, str]) -> str | None:
    """The first non-empty text among `paths` (ElementPath, relative to `parent`)."""
    for path in paths:
        for el in parent.iterfind(path, namespaces):
            value = text_of(el)
            if value is not None:
                return value
    return None


def clip(value: str, limit: int = TEXT_MAX) -> str:
    """Free text cut to the native limit (whitespace collapsed)."""
    collapsed = " ".join(value.split())
    return collapsed[:limit]


def tax_id(value: str | None, defaults: MappingDefaults) -> str:
    """A 10-digit tax id (optionally written `AZ` + 10 digits), else the fallback."""
    if value is not None:
        match = _TAX_ID.fullmatch(value.strip().upper())
        if match:
            return match.group(1)
    return defaults.fallback_tax_id


def country(*candidates: str | None) -> str:
    """The first candidate that is an upper-case alpha-2 code, else `ZZ`."""
    for value in candidates:
        if value is not None and _COUNTRY.fullmatch(value.strip().upper()):
            return value.strip().upper()
    return UNKNOWN_COUNTRY


def country_of_identifier(identifier: str | None) -> str | None:
    """The country prefix of an EORI-style identifier (`GB553202734852` → `GB`)."""
    if identifier is not None and len(identifier) > 2 and identifier[:2].isalpha():
        return identifier[:2].upper()
    return None


def currency(*candidates: str | None) -> str:
    for value in candidates:
        if value is not None and _CURRENCY.fullmatch(value.strip().upper()):
            return value.strip().upper()
    return NO_CURRENCY


def office_id(*candidates: str | None) -> str | None:
    """The first candidate usable as a UAMS id (`[A-Z0-9-]{2,32}` after upper-casing)."""
    for value in candidates:
        if value is not None and _OFFICE_ID.fullmatch(value.strip().upper()):
            return value.strip().upper()
    return None


def hs_code(value: str | None) -> str | None:
    """6 to 10 digits: dots and spaces dropped, a 4- or 5-digit heading padded with
    zeros (`0808` → `080800`, the same HS heading), longer codes cut to 10."""
    if value is None:
        return None
    digits = _NOT_DIGIT.sub("", value)
    if len(digits) < 4:
        return None
    return digits.ljust(6, "0")[:10]


def decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def amount_text(value: Decimal) -> str:
    """An `amount`: ≥ 0, two fraction digits (rounded half up)."""
    return str(max(value, Decimal(0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def mass_text(value: Decimal | None) -> str:
    """A mass in kg with at most 3 fraction digits and > 0; unknown or 0 → 0.001 (1 g)."""
    if value is None or value <= 0:
        return "0.001"
    rounded = value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    return str(rounded) if rounded > 0 else "0.001"


def sub(parent: etree._Element, tag: str, value: str | None = None) -> etree._Element:
    """Append a child in the parent's namespace (with text when given)."""
    namespace = etree.QName(parent).namespace
    child = etree.SubElement(parent, f"{{{namespace}}}{tag}" if namespace else tag)
    if value is not None:
        child.text = value
    return child
