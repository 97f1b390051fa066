"""UN/CEFACT SPSCertificate:17 (ePhyto) → UAMS `ElectronicCertificate`.

See docs/international.md for the field mapping. The input is the element the
signature verifier returned (the certificate as signed); an enveloped
`ds:Signature` in it is not carried over: the native certificate is derived
data, and the received document is kept as it came in the message log.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from lxml import etree

from protocol import namespaces as ns
from protocol.international.common import (
    NUMBER35_MAX,
    MappingDefaults,
    clip,
    country,
    first_text,
    hs_code,
    refused,
    sub,
    tax_id,
    text_of,
    unsupported,
)

RSM = ns.SPS_CERTIFICATE
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:21"
ROOT_TAG = f"{{{RSM}}}SPSCertificate"
NS = {"rsm": RSM, "ram": RAM, "udt": UDT}

_DOC = "/SPSCertificate/SPSExchangedDocument"
_CONSIGNMENT = "/SPSCertificate/SPSConsignment"
MAX_GOODS = 99

#: UN/CEFACT 1001 document name codes → UAMS certificate types
CERTIFICATE_TYPES = {
    "851": "PHYTOSANITARY",  # Phytosanitary certificate
    "657": "PHYTOSANITARY",  # Phytosanitary re-export certificate
    "852": "SANITARY",       # Sanitary certificate
    "853": "VETERINARY",     # Veterinary certificate
}
#: UNECE 4405 status codes of a certificate that is not in force
REFUSED_STATUSES = {"40": "withdrawn", "41": "rejected"}

_COMPACT = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
_ISO_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?")
_ISO_ZONED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def issued_at(value: str | None) -> str | None:
    """A UAMS time (zone mandatory) from a udt:DateTimeString.

    ISO with a zone is kept; ISO without a zone, `CCYYMMDD[HHMM[SS]]` (formats
    102/203/204) and a bare ISO date are taken as UTC.
    """
    if value is None:
        return None
    value = value.strip()
    if _ISO_ZONED.fullmatch(value):
        return value
    if _ISO_LOCAL.fullmatch(value):
        return value + "Z"
    if _ISO_DATE.fullmatch(value):
        return value + "T00:00:00Z"
    if value.isdigit() and len(value) in _COMPACT:
        try:
            parsed = datetime.strptime(value, _COMPACT[len(value)])
        except ValueError:
            return None
        return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


def _valid_until(issued: str, days: int) -> str:
    """IssuedAt's calendar date (as written, in its own zone) plus `days`."""
    return (date.fromisoformat(issued[:10]) + timedelta(days=days)).isoformat()


def _goods(consignment: etree._Element) -> list[tuple[str, str]]:
    goods: dict[str, str] = {}
    for line in consignment.iterfind("ram:IncludedSPSConsignmentItem/"
                                     "ram:IncludedSPSTradeLineItem", NS):
        description = first_text(line, ("ram:Description", "ram:CommonName",
                                        "ram:ScientificName"), NS)
        for classification in line.iterfind("ram:ApplicableSPSClassification", NS):
            system = (first_text(classification, ("ram:SystemName", "ram:SystemID"), NS)
                      or "").upper()
            code = hs_code(text_of(classification.find("ram:ClassCode", NS)))
            if system.startswith("HS") and code is not None and code not in goods:
                goods[code] = clip(description or f"HS {code}")
    return list(goods.items())


def sps_to_native(el: etree._Element, defaults: MappingDefaults) -> etree._Element:
    """The UAMS ElectronicCertificate equivalent to an SPSCertificate element.

    Raises `SchemaInvalid` when data the native certificate needs is missing or
    unusable, `BusinessRuleViolation` for a withdrawn or rejected certificate.
    """
    doc = el.find("rsm:SPSExchangedDocument", NS)
    consignment = el.find("rsm:SPSConsignment", NS)
    if doc is None or consignment is None:
        raise unsupported("/SPSCertificate", "SPSExchangedDocument and SPSConsignment are "
                          "required.")
    number = text_of(doc.find("ram:ID", NS))
    if number is None or len(number) > NUMBER35_MAX:
        raise unsupported(f"{_DOC}/ID", "The certificate number must be 1 to 35 characters.")
    type_code = text_of(doc.find("ram:TypeCode", NS)) or ""
    certificate_type = CERTIFICATE_TYPES.get(type_code)
    if certificate_type is None:
        raise unsupported(f"{_DOC}/TypeCode", "TypeCode must be 851, 657 (phytosanitary), "
                          "852 (sanitary) or 853 (veterinary).")
    status = text_of(doc.find("ram:StatusCode", NS)) or ""
    if status in REFUSED_STATUSES:
        raise refused("SPS_STATUS", f"{_DOC}/StatusCode",
                      f"A {REFUSED_STATUSES[status]} certificate is not registered.")
    issued = issued_at(text_of(doc.find("ram:IssueDateTime/udt:DateTimeString", NS)))
    if issued is None:
        raise unsupported(f"{_DOC}/IssueDateTime", "IssueDateTime must be a date and time.")
    goods = _goods(consignment)
    if not goods:
        raise unsupported(f"{_CONSIGNMENT}/IncludedSPSConsignmentItem",
                          "At least one trade line item needs an HS classification.")
    if len(goods) > MAX_GOODS:
        raise unsupported(f"{_CONSIGNMENT}/IncludedSPSConsignmentItem",
                          f"At most {MAX_GOODS} different HS codes can be registered.")
    consignee_id = text_of(consignment.find("ram:ConsigneeSPSParty/ram:ID", NS))
    origin = country(
        first_text(consignment, ("ram:IncludedSPSConsignmentItem/ram:IncludedSPSTradeLineItem/"
                                 "ram:OriginSPSCountry/ram:ID",), NS),
        text_of(consignment.find("ram:ExportSPSCountry/ram:ID", NS)))

    native = etree.Element(f"{{{ns.CERTIFICATE}}}ElectronicCertificate",
                           nsmap={None: ns.CERTIFICATE})
    sub(native, "CertificateNumber", number)
    sub(native, "CertificateType", certificate_type)
    sub(native, "IssuedAt", issued)
    sub(native, "ValidUntil", _valid_until(issued, defaults.sps_validity_days))
    sub(native, "ConsigneeTaxId", tax_id(consignee_id, defaults))
    sub(native, "OriginCountry", origin)
    for code, description in goods:
        item = sub(native, "Goods")
        sub(item, "HSCode", code)
        sub(item, "Description", description)
    return native
