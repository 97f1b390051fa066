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


_ITEM = _ + "GoodsItem"
_DOCUMENT = _ + "Document"
_TAX = _ + "Tax"


def _texts(el: etree._Element) -> dict[str, str]:
    """Direct children's stripped text by Clark name, in one pass (for schema-valid input)."""
    return {child.tag: (child.text or "").strip() for child in el}


def _item(item: etree._Element) -> GoodsItem:
    t: dict[str, str] = {}
    documents: list[ItemDocument] = []
    for child in item:
        if child.tag == _DOCUMENT:
            d = _texts(child)
            documents.append(ItemDocument(d[_ + "Type"], d[_ + "Number"]))
        else:
            t[child.tag] = (child.text or "").strip()
    return GoodsItem(
        seq=int(t[_ + "SequenceNumber"]),
        hs_code=t[_ + "HSCode"],
        description=t[_ + "Description"],
        origin_country=t[_ + "OriginCountry"],
        gross_mass_g=grams(t[_ + "GrossMassKg"]),
        net_mass_g=grams(t[_ + "NetMassKg"]),
        invoice_amount=minor_units(t[_ + "InvoiceAmount"]),
        documents=tuple(documents),
    )


def read_declaration(el: etree._Element) -> CustomsDeclaration:
    """Read a schema-valid CustomsDeclaration, visiting each element once (this runs
    for every declaration, on the event loop)."""
    t: dict[str, str] = {}
    parts: dict[str, dict[str, str]] = {}
    items: list[GoodsItem] = []
    taxes: list[Tax] = []
    for child in el:
        tag = child.tag
        if tag == _ITEM:
            items.append(_item(child))
        elif tag == _TAX:
            x = _texts(child)
            taxes.append(Tax(x[_ + "Type"], minor_units(x[_ + "Amount"]), x[_ + "Currency"]))
        elif len(child):  # Consignor, Consignee, TransportMeans
            parts[tag] = _texts(child)
        else:
            t[tag] = (child.text or "").strip()
    cr, ce = parts[_ + "Consignor"], parts[_ + "Consignee"]
    tm = parts[_ + "TransportMeans"]
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
        items=tuple(items),
        taxes=tuple(taxes),
    )


def read_control_decision(el: etree._Element) -> ControlDecision:
    return ControlDecision(
        declaration_number=child_text(el, _ + "DeclarationNumber"),
        decision=child_text(el, _ + "Decision"),
        officer=child_text(el, _ + "Officer"),
        note=optional_text(el, _ + "Note"),
    )
