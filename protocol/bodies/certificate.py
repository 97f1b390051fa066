"""ElectronicCertificate and CertificateRevocation bodies (namespace urn:uams:certificate:1)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from protocol import namespaces as ns
from protocol.bodies.common import child_text

_ = f"{{{ns.CERTIFICATE}}}"


@dataclass(frozen=True, slots=True)
class CertificateGoods:
    hs_code: str
    description: str


@dataclass(frozen=True, slots=True)
class ElectronicCertificate:
    number: str
    cert_type: str
    issued_at: str       # xs:dateTime with its zone, as sent
    valid_until: str     # YYYY-MM-DD
    consignee_tax_id: str
    origin_country: str
    goods: tuple[CertificateGoods, ...]


@dataclass(frozen=True, slots=True)
class CertificateRevocation:
    number: str
    reason: str


def read_certificate(el: etree._Element) -> ElectronicCertificate:
    """The certificate fields of a schema-valid element (its signature is not read)."""
    return ElectronicCertificate(
        number=child_text(el, _ + "CertificateNumber"),
        cert_type=child_text(el, _ + "CertificateType"),
        issued_at=child_text(el, _ + "IssuedAt"),
        valid_until=child_text(el, _ + "ValidUntil"),
        consignee_tax_id=child_text(el, _ + "ConsigneeTaxId"),
        origin_country=child_text(el, _ + "OriginCountry"),
        goods=tuple(
            CertificateGoods(child_text(g, _ + "HSCode"), child_text(g, _ + "Description"))
            for g in el.iterfind(_ + "Goods")
        ),
    )


def read_revocation(el: etree._Element) -> CertificateRevocation:
    reason = el.find(_ + "Reason")
    return CertificateRevocation(
        number=child_text(el, _ + "CertificateNumber"),
        reason=(reason.text or "") if reason is not None else "",
    )
