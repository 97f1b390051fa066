"""Message builders for tests: envelopes and bodies with sensible defaults."""

from __future__ import annotations

import itertools
from xml.sax.saxutils import escape

_counter = itertools.count(1)


def message_id(prefix: str = "t") -> str:
    return f"{prefix}-{next(_counter):06d}"


def envelope(message_type: str, body: str, *, sender: str, mid: str | None = None,
             sent_at: str = "2026-12-03T10:15:00Z", correlation_id: str | None = None) -> bytes:
    corr = f"<CorrelationId>{correlation_id}</CorrelationId>" if correlation_id else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Envelope xmlns="urn:uams:envelope:1"><Header>'
        f"<MessageId>{mid or message_id()}</MessageId>"
        f"<MessageType>{message_type}</MessageType>"
        f"<SenderId>{sender}</SenderId>"
        f"<SentAt>{sent_at}</SentAt>{corr}"
        f"</Header><Body>{body}</Body></Envelope>"
    ).encode()


def goods_item(seq: int = 1, hs: str = "847130", *, documents: tuple[tuple[str, str], ...] = (),
               origin: str = "CN", amount: str = "1000.00") -> str:
    docs = "".join(f"<Document><Type>{t}</Type><Number>{escape(n)}</Number></Document>"
                   for t, n in documents)
    return (
        f"<GoodsItem><SequenceNumber>{seq}</SequenceNumber><HSCode>{hs}</HSCode>"
        f"<Description>Goods {seq}</Description><OriginCountry>{origin}</OriginCountry>"
        f"<GrossMassKg>10.5</GrossMassKg><NetMassKg>10</NetMassKg>"
        f"<InvoiceAmount>{amount}</InvoiceAmount>{docs}</GoodsItem>"
    )


def declaration_body(*, lrn: str | None = None, declarant: str = "BRK-0001",
                     procedure: str = "IM", tax_id: str = "1234567890",
                     items: list[str] | None = None, office: str = "BAKU-MAIN",
                     currency: str = "USD", total: str = "1000.00",
                     taxes: tuple[tuple[str, str, str], ...] = (("VAT", "180.00", "AZN"),),
                     origin_country: str = "TR") -> str:
    items = items or [goods_item()]
    tax_xml = "".join(f"<Tax><Type>{t}</Type><Amount>{a}</Amount><Currency>{c}</Currency></Tax>"
                      for t, a, c in taxes)
    return (
        '<CustomsDeclaration xmlns="urn:uams:declaration:1">'
        f"<ProcedureType>{procedure}</ProcedureType>"
        f"<LocalReferenceNumber>{lrn or message_id('LRN')}</LocalReferenceNumber>"
        f"<CustomsOffice>{office}</CustomsOffice><Declarant>{declarant}</Declarant>"
        f"<Consignor><Name>Seller Ltd</Name><Country>{origin_country}</Country></Consignor>"
        f"<Consignee><Name>Buyer LLC</Name><TaxId>{tax_id}</TaxId><Country>AZ</Country></Consignee>"
        "<TransportMeans><Mode>ROAD</Mode><Identification>34 ABC 123</Identification>"
        "<Nationality>TR</Nationality></TransportMeans>"
        "<BorderCrossingPoint>RED-BRIDGE</BorderCrossingPoint>"
        f"<InvoiceCurrency>{currency}</InvoiceCurrency><TotalInvoiceAmount>{total}</TotalInvoiceAmount>"
        f"{''.join(items)}{tax_xml}</CustomsDeclaration>"
    )


def declaration(*, sender: str = "BRK-0001", mid: str | None = None, **body: object) -> bytes:
    body.setdefault("declarant", sender)
    return envelope("CustomsDeclaration", declaration_body(**body),  # type: ignore[arg-type]
                    sender=sender, mid=mid)


def status_request(*, sender: str, reference: str | None = None, lrn: str | None = None,
                   mid: str | None = None) -> bytes:
    inner = (f"<Reference>{reference}</Reference>" if reference is not None
             else f"<LocalReferenceNumber>{lrn}</LocalReferenceNumber>")
    return envelope("StatusRequest", f'<StatusRequest xmlns="urn:uams:status:1">{inner}'
                    "</StatusRequest>", sender=sender, mid=mid)


def certificate_body(*, number: str, cert_type: str = "PHYTOSANITARY",
                     issued_at: str = "2026-12-01T09:00:00Z", valid_until: str = "2099-12-31",
                     tax_id: str = "1234567890", origin: str = "GE",
                     hs: tuple[str, ...] = ("080810",), cert_id: str | None = None) -> str:
    id_attr = f' Id="{cert_id}"' if cert_id else ""
    goods = "".join(f"<Goods><HSCode>{code}</HSCode><Description>Goods {code}</Description>"
                    "</Goods>" for code in hs)
    return (
        f'<ElectronicCertificate xmlns="urn:uams:certificate:1"{id_attr}>'
        f"<CertificateNumber>{escape(number)}</CertificateNumber>"
        f"<CertificateType>{cert_type}</CertificateType><IssuedAt>{issued_at}</IssuedAt>"
        f"<ValidUntil>{valid_until}</ValidUntil><ConsigneeTaxId>{tax_id}</ConsigneeTaxId>"
        f"<OriginCountry>{origin}</OriginCountry>{goods}</ElectronicCertificate>"
    )


def certificate(*, sender: str = "MOA-0001", mid: str | None = None, **body: object) -> bytes:
    return envelope("ElectronicCertificate", certificate_body(**body),  # type: ignore[arg-type]
                    sender=sender, mid=mid)


def revocation(*, number: str, sender: str = "MOA-0001", reason: str = "Withdrawn.",
               mid: str | None = None) -> bytes:
    return envelope("CertificateRevocation",
                    '<CertificateRevocation xmlns="urn:uams:certificate:1">'
                    f"<CertificateNumber>{escape(number)}</CertificateNumber>"
                    f"<Reason>{escape(reason)}</Reason></CertificateRevocation>",
                    sender=sender, mid=mid)


def control_decision(*, number: str, decision: str = "RELEASED", sender: str = "SCC-OFF1",
                     officer: str = "SCC-OFF1", note: str | None = None,
                     mid: str | None = None) -> bytes:
    note_xml = f"<Note>{escape(note)}</Note>" if note is not None else ""
    return envelope("ControlDecision",
                    '<ControlDecision xmlns="urn:uams:declaration:1">'
                    f"<DeclarationNumber>{number}</DeclarationNumber>"
                    f"<Decision>{decision}</Decision><Officer>{officer}</Officer>{note_xml}"
                    "</ControlDecision>", sender=sender, mid=mid)
