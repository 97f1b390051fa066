"""WCO Data Model DEC-DMS:2 `Declaration` (UK CDS) → UAMS `CustomsDeclaration`.

See docs/international.md for the field mapping. Only original declarations
(FunctionCode 9) are registered; the Declarant is the participant that sends
the message (the WCO Declarant is a foreign EORI, not a Single Window id).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from lxml import etree

from protocol import namespaces as ns
from protocol.international.common import (
    NUMBER35_MAX,
    MappingDefaults,
    amount_text,
    clip,
    country,
    country_of_identifier,
    currency,
    decimal,
    first_text,
    hs_code,
    mass_text,
    office_id,
    refused,
    sub,
    tax_id,
    text_of,
    unsupported,
)

DEC = ns.WCO_DECLARATION
ROOT_TAG = f"{{{DEC}}}Declaration"
NS = {"d": DEC}
_PATH = "/Declaration"
MAX_ITEMS = 999
MAX_DOCUMENTS = 99

#: BorderTransportMeans ModeCode (UN/ECE Rec. 19) → UAMS Mode; anything else is ROAD
MODES = {"1": "SEA", "8": "SEA", "2": "RAIL", "3": "ROAD", "4": "AIR"}
#: EU/UK document codes (CategoryCode + TypeCode) → UAMS Document Type
DOCUMENT_TYPES = {"N851": "PHYTOSANITARY", "N852": "SANITARY", "N853": "VETERINARY"}
#: First two digits of a requested procedure code that make a CO declaration an export
EXPORT_PROCEDURES = frozenset({"10", "11", "21", "22", "23", "31"})
#: Classification types that carry the commodity code (CN / TARIC base)
COMMODITY_CODE_TYPES = ("TSP", "CV")


def _procedure(decl: etree._Element) -> str:
    type_code = (text_of(decl.find("d:TypeCode", NS)) or "")[:2].upper()
    if type_code in ("IM", "EX"):
        return type_code
    if type_code == "CO":
        current = first_text(decl, ("d:GoodsShipment/d:GovernmentAgencyGoodsItem/"
                                    "d:GovernmentProcedure/d:CurrentCode",), NS) or ""
        return "EX" if current[:2] in EXPORT_PROCEDURES else "IM"
    raise unsupported(f"{_PATH}/TypeCode", "TypeCode must start with IM, EX or CO.")


def _party(parent: etree._Element, paths: Iterable[str]) -> etree._Element | None:
    for path in paths:
        found = parent.find(path, NS)
        if found is not None:
            return found
    return None


def _party_fields(party: etree._Element | None) -> tuple[str | None, str | None, str | None]:
    """(name, id, country) of a WCO party, each None when absent."""
    if party is None:
        return None, None, None
    identifier = text_of(party.find("d:ID", NS))
    return (text_of(party.find("d:Name", NS)), identifier,
            text_of(party.find("d:Address/d:CountryCode", NS)) or country_of_identifier(identifier))


def _money(el: etree._Element | None) -> tuple[Decimal, str | None] | None:
    value = decimal(text_of(el))
    if el is None or value is None:
        return None
    return value, el.get("currencyID")


def _commodity_code(item: etree._Element) -> str | None:
    for classification in item.iterfind("d:Commodity/d:Classification", NS):
        kind = text_of(classification.find("d:IdentificationTypeCode", NS))
        if kind in COMMODITY_CODE_TYPES:
            return hs_code(text_of(classification.find("d:ID", NS)))
    return None


def _tax_type(code: str) -> str | None:
    code = code.upper()
    if code.startswith("A"):
        return "DUTY"
    if code.startswith("B"):
        return "VAT"
    if code[:1].isdigit():
        return "EXCISE"
    return None


def _taxes(items: list[etree._Element]) -> dict[tuple[str, str], Decimal]:
    taxes: dict[tuple[str, str], Decimal] = {}
    for item in items:
        for fee in item.iterfind("d:Commodity/d:DutyTaxFee", NS):
            tax_type = _tax_type(text_of(fee.find("d:TypeCode", NS)) or "")
            money = (_money(fee.find("d:Payment/d:TaxAssessedAmount", NS))
                     or _money(fee.find("d:Payment/d:PaymentAmount", NS)))
            if tax_type is None or money is None:
                continue
            key = (tax_type, currency(money[1]))
            taxes[key] = taxes.get(key, Decimal(0)) + money[0]
    return taxes


def _add_item(native: etree._Element, item: etree._Element, position: int,
              shipment: etree._Element) -> Decimal:
    """Append one native GoodsItem; returns its invoice amount."""
    path = f"{_PATH}/GoodsShipment/GovernmentAgencyGoodsItem[{position}]"
    code = _commodity_code(item)
    if code is None:
        raise refused("WCO_COMMODITY_CODE", f"{path}/Commodity/Classification",
                      "Every goods item needs a commodity code (Classification TSP or CV): "
                      "permit rules are applied by HS code.")
    seq = decimal(text_of(item.find("d:SequenceNumeric", NS)))
    value = (_money(item.find("d:Commodity/d:InvoiceLine/d:ItemChargeAmount", NS))
             or _money(item.find("d:StatisticalValueAmount", NS)))
    invoice = value[0] if value is not None else Decimal(0)
    gross = decimal(text_of(item.find("d:Commodity/d:GoodsMeasure/d:GrossMassMeasure", NS)))
    net = decimal(text_of(item.find("d:Commodity/d:GoodsMeasure/d:NetNetWeightMeasure", NS)))
    el = sub(native, "GoodsItem")
    sub(el, "SequenceNumber", str(int(seq)) if seq is not None and 1 <= seq <= MAX_ITEMS
        else str(position))
    sub(el, "HSCode", code)
    sub(el, "Description", clip(text_of(item.find("d:Commodity/d:Description", NS))
                                or f"Goods item {position}"))
    sub(el, "OriginCountry", country(text_of(item.find("d:Origin/d:CountryCode", NS)),
                                     text_of(shipment.find("d:ExportCountry/d:ID", NS))))
    sub(el, "GrossMassKg", mass_text(gross if gross else net))
    sub(el, "NetMassKg", mass_text(net if net else gross))
    sub(el, "InvoiceAmount", amount_text(invoice))
    documents = 0
    for doc in item.iterfind("d:AdditionalDocument", NS):
        doc_type = DOCUMENT_TYPES.get((text_of(doc.find("d:CategoryCode", NS)) or "")
                                      + (text_of(doc.find("d:TypeCode", NS)) or ""))
        number = text_of(doc.find("d:ID", NS))
        if doc_type and number and len(number) <= NUMBER35_MAX and documents < MAX_DOCUMENTS:
            document = sub(el, "Document")
            sub(document, "Type", doc_type)
            sub(document, "Number", number)
            documents += 1
    return invoice


def wco_to_native(decl: etree._Element, sender_id: str,
                  defaults: MappingDefaults) -> etree._Element:
    """The UAMS CustomsDeclaration equivalent to a DEC-DMS Declaration lodged by `sender_id`.

    Raises `BusinessRuleViolation` for what the Single Window does not register
    (amendments, cancellations, items without a commodity code) and
    `SchemaInvalid` when data the native declaration needs is unusable.
    """
    function = text_of(decl.find("d:FunctionCode", NS))
    if function != "9":
        raise refused("WCO_FUNCTION_CODE", f"{_PATH}/FunctionCode",
                      "Only original declarations (FunctionCode 9) are registered; amendments "
                      "and cancellations are not supported.")
    lrn = text_of(decl.find("d:FunctionalReferenceID", NS))
    if lrn is None or len(lrn) > NUMBER35_MAX:
        raise unsupported(f"{_PATH}/FunctionalReferenceID",
                          "FunctionalReferenceID (the LRN) must be 1 to 35 characters.")
    procedure = _procedure(decl)
    shipment = decl.find("d:GoodsShipment", NS)
    items = decl.findall("d:GoodsShipment/d:GovernmentAgencyGoodsItem", NS)
    if shipment is None or not items:
        raise unsupported(f"{_PATH}/GoodsShipment", "At least one GovernmentAgencyGoodsItem "
                          "is required.")
    if len(items) > MAX_ITEMS:
        raise unsupported(f"{_PATH}/GoodsShipment", f"At most {MAX_ITEMS} goods items.")
    location = text_of(shipment.find("d:Consignment/d:GoodsLocation/d:Name", NS))
    office = office_id(text_of(decl.find("d:DeclarationOfficeID", NS)),
                       text_of(decl.find("d:SupervisingOffice/d:ID", NS)),
                       text_of(decl.find("d:PresentationOffice/d:ID", NS)),
                       text_of(decl.find("d:ExitOffice/d:ID", NS)),
                       location) or defaults.fallback_office
    crossing_point = office_id(text_of(decl.find("d:ExitOffice/d:ID", NS)), location) or office
    consignor = _party_fields(_party(decl, ("d:Exporter", "d:GoodsShipment/d:Consignor",
                                            "d:GoodsShipment/d:Consignment/d:Consignor")))
    consignee = _party_fields(_party(decl, ("d:GoodsShipment/d:Importer",
                                            "d:GoodsShipment/d:Consignee")))
    transport = _party(decl, ("d:BorderTransportMeans",))
    arrival = ("d:GoodsShipment/d:Consignment/d:ArrivalTransportMeans",
               "d:GoodsShipment/d:Consignment/d:DepartureTransportMeans")
    mode = first_text(decl, ("d:BorderTransportMeans/d:ModeCode",
                             *(f"{p}/d:ModeCode" for p in arrival)), NS)
    invoice_total = _money(decl.find("d:InvoiceAmount", NS))
    first_charge = _money(decl.find("d:GoodsShipment/d:GovernmentAgencyGoodsItem/d:Commodity/"
                                    "d:InvoiceLine/d:ItemChargeAmount", NS))

    native = etree.Element(f"{{{ns.DECLARATION}}}CustomsDeclaration",
                           nsmap={None: ns.DECLARATION})
    sub(native, "ProcedureType", procedure)
    sub(native, "LocalReferenceNumber", lrn)
    sub(native, "CustomsOffice", office)
    sub(native, "Declarant", sender_id)
    party = sub(native, "Consignor")
    sub(party, "Name", clip(consignor[0] or consignor[1] or "Not declared"))
    sub(party, "Country", country(consignor[2],
                                  text_of(shipment.find("d:ExportCountry/d:ID", NS))))
    party = sub(native, "Consignee")
    sub(party, "Name", clip(consignee[0] or consignee[1] or "Not declared"))
    sub(party, "TaxId", tax_id(consignee[1], defaults))
    sub(party, "Country", country(consignee[2],
                                  text_of(shipment.find("d:Destination/d:CountryCode", NS))))
    means = sub(native, "TransportMeans")
    sub(means, "Mode", MODES.get(mode or "", "ROAD"))
    sub(means, "Identification", clip(first_text(decl, ("d:BorderTransportMeans/d:ID",
                                                        *(f"{p}/d:ID" for p in arrival)), NS)
                                      or "Not declared"))
    sub(means, "Nationality", country(
        text_of(transport.find("d:RegistrationNationalityCode", NS))
        if transport is not None else None,
        first_text(decl, tuple(f"{p}/d:RegistrationNationalityCode" for p in arrival), NS)))
    sub(native, "BorderCrossingPoint", crossing_point)
    currency_el = sub(native, "InvoiceCurrency")
    total_el = sub(native, "TotalInvoiceAmount")
    total = Decimal(0)
    for position, item in enumerate(items, 1):
        total += _add_item(native, item, position, shipment)
    currency_el.text = currency(invoice_total[1] if invoice_total else None,
                                first_charge[1] if first_charge else None)
    total_el.text = amount_text(invoice_total[0] if invoice_total else total)
    for (tax_type, tax_currency), amount in sorted(_taxes(items).items()):
        tax = sub(native, "Tax")
        sub(tax, "Type", tax_type)
        sub(tax, "Amount", amount_text(amount))
        sub(tax, "Currency", tax_currency)
    return native
