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


def read_declaration(el: etree._Element) -> CustomsDeclaration:
    consignor = el.find(_ + "Consignor")
    consignee = el.find(_ + "Consignee")
    transport = el.find(_ + "TransportMeans")
    assert consignor is not None and consignee is not None and transport is not None
    items = tuple(
        GoodsItem(
            seq=int(child_text(item, _ + "SequenceNumber")),
            hs_code=child_text(item, _ + "HSCode"),
            description=child_text(item, _ + "Description"),
            origin_country=child_text(item, _ + "OriginCountry"),
            gross_mass_g=grams(child_text(item, _ + "GrossMassKg")),
            net_mass_g=grams(child_text(item, _ + "NetMassKg")),
            invoice_amount=minor_units(child_text(item, _ + "InvoiceAmount")),
            documents=tuple(
                ItemDocument(child_text(doc, _ + "Type"), child_text(doc, _ + "Number"))
                for doc in item.iterfind(_ + "Document")
            ),
        )
        for item in el.iterfind(_ + "GoodsItem")
    )
    taxes = tuple(
        Tax(child_text(t, _ + "Type"), minor_units(child_text(t, _ + "Amount")),
            child_text(t, _ + "Currency"))
        for t in el.iterfind(_ + "Tax")
    )
    return CustomsDeclaration(
        procedure_type=child_text(el, _ + "ProcedureType"),
        lrn=child_text(el, _ + "LocalReferenceNumber"),
        customs_office=child_text(el, _ + "CustomsOffice"),
        declarant_id=child_text(el, _ + "Declarant"),
        consignor_name=child_text(consignor, _ + "Name"),
        consignor_country=child_text(consignor, _ + "Country"),
        consignee_name=child_text(consignee, _ + "Name"),
        consignee_tax_id=child_text(consignee, _ + "TaxId"),
        consignee_country=child_text(consignee, _ + "Country"),
        transport_mode=child_text(transport, _ + "Mode"),
        transport_identification=child_text(transport, _ + "Identification"),
        transport_nationality=child_text(transport, _ + "Nationality"),
        border_crossing_point=child_text(el, _ + "BorderCrossingPoint"),
        invoice_currency=child_text(el, _ + "InvoiceCurrency"),
        total_invoice_amount=minor_units(child_text(el, _ + "TotalInvoiceAmount")),
        items=items,
        taxes=taxes,
    )


def read_control_decision(el: etree._Element) -> ControlDecision:
    return ControlDecision(
        declaration_number=child_text(el, _ + "DeclarationNumber"),
        decision=child_text(el, _ + "Decision"),
        officer=child_text(el, _ + "Officer"),
        note=optional_text(el, _ + "Note"),
    )
