"""CustomsDeclaration and ControlDecision bodies (namespace urn:uams:declaration:1)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from protocol import namespaces as ns
from protocol.bodies.common import child_text, grams, minor_units, optional_text

_ = f"{{{ns.DECLARATION}}}"


@dataclass(frozen=True, slots=True)
class ItemDocument:
    doc_type: str
    number: str


@dataclass(frozen=True, slots=True)
class GoodsItem:
    seq: int
    hs_code: str
    description: str
    origin_country: str
    gross_mass_g: int
    net_mass_g: int
    invoice_amount: int  # cents
    documents: tuple[ItemDocument, ...]


@dataclass(frozen=True, slots=True)
class Tax:
    tax_type: str
    amount: int  # cents
    currency: str


@dataclass(frozen=True, slots=True)
class CustomsDeclaration:
    procedure_type: str
    lrn: str
    customs_office: str
    declarant_id: str
    consignor_name: str
    consignor_country: str
    consignee_name: str
    consignee_tax_id: str
    consignee_country: str
    transport_mode: str
    transport_identification: str
    transport_nationality: str
    border_crossing_point: str
    invoice_currency: str
    total_invoice_amount: int  # cents
    items: tuple[GoodsItem, ...]
    taxes: tuple[Tax, ...]


@dataclass(frozen=True, slots=True)
class ControlDecision:
    declaration_number: str
    decision: str
    officer: str
    note: str | None


def _texts(el: etree._Element) -> dict[str, str]:
    """Direct children's stripped text by Clark name, in one pass (for schema-valid input)."""
    return {child.tag: (child.text or "").strip() for child in el}


def _item(item: etree._Element) -> GoodsItem:
    t = _texts(item)
    return GoodsItem(
        seq=int(t[_ + "SequenceNumber"]),
        hs_code=t[_ + "HSCode"],
        description=t[_ + "Description"],
        origin_country=t[_ + "OriginCountry"],
        gross_mass_g=grams(t[_ + "GrossMassKg"]),
        net_mass_g=grams(t[_ + "NetMassKg"]),
        invoice_amount=minor_units(t[_ + "InvoiceAmount"]),
        documents=tuple(
            ItemDocument(child_text(doc, _ + "Type"), child_text(doc, _ + "Number"))
            for doc in item.iterfind(_ + "Document")
        ),
    )


def read_declaration(el: etree._Element) -> CustomsDeclaration:
    t = _texts(el)
    consignor = el.find(_ + "Consignor")
    consignee = el.find(_ + "Consignee")
    transport = el.find(_ + "TransportMeans")
    assert consignor is not None and consignee is not None and transport is not None
    cr, ce, tm = _texts(consignor), _texts(consignee), _texts(transport)
    return CustomsDeclaration(
        procedure_type=t[_ + "ProcedureType"],
        lrn=t[_ + "LocalReferenceNumber"],
        customs_office=t[_ + "CustomsOffice"],
        declarant_id=t[_ + "Declarant"],
        consignor_name=cr[_ + "Name"],
        consignor_country=cr[_ + "Country"],
        consignee_name=ce[_ + "Name"],
        consignee_tax_id=ce[_ + "TaxId"],
        consignee_country=ce[_ + "Country"],
        transport_mode=tm[_ + "Mode"],
        transport_identification=tm[_ + "Identification"],
        transport_nationality=tm[_ + "Nationality"],
        border_crossing_point=t[_ + "BorderCrossingPoint"],
        invoice_currency=t[_ + "InvoiceCurrency"],
        total_invoice_amount=minor_units(t[_ + "TotalInvoiceAmount"]),
        items=tuple(_item(item) for item in el.iterfind(_ + "GoodsItem")),
        taxes=tuple(
            Tax(child_text(x, _ + "Type"), minor_units(child_text(x, _ + "Amount")),
                child_text(x, _ + "Currency"))
            for x in el.iterfind(_ + "Tax")
        ),
    )


def read_control_decision(el: etree._Element) -> ControlDecision:
    return ControlDecision(
        declaration_number=child_text(el, _ + "DeclarationNumber"),
        decision=child_text(el, _ + "Decision"),
        officer=child_text(el, _ + "Officer"),
        note=optional_text(el, _ + "Note"),
    )
