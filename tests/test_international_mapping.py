"""The international mappings on their own (protocol/international): documents built
here, so every rule of docs/international.md is pinned without the sample data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from gateway.config import ConfigError, load_config
from protocol import namespaces as ns
from protocol.errors import BusinessRuleViolation, SchemaInvalid
from protocol.international.common import MappingDefaults, hs_code, mass_text, tax_id
from protocol.international.sps import RAM, RSM, UDT, issued_at, sps_to_native
from protocol.international.wco import DEC, wco_to_native
from protocol.schemas import SchemaSet

SCHEMAS = SchemaSet()
DEFAULTS = MappingDefaults()
C = f"{{{ns.CERTIFICATE}}}"
D = f"{{{ns.DECLARATION}}}"


def sps(*, number: str = "EPHYTO-1", type_code: str = "851", status: str = "70",
        issued: str = "2026-12-01T09:00:00+04:00", consignee_id: str = "",
        lines: str | None = None) -> etree._Element:
    consignee = f"<ram:ID>{consignee_id}</ram:ID>" if consignee_id else ""
    if lines is None:
        lines = line("1", "Fresh apples", "0808.10", origin="GE")
    return etree.fromstring(
        f'<rsm:SPSCertificate xmlns:rsm="{RSM}" xmlns:ram="{RAM}" xmlns:udt="{UDT}">'
        f"<rsm:SPSExchangedDocument><ram:ID>{number}</ram:ID><ram:TypeCode>{type_code}"
        f"</ram:TypeCode><ram:StatusCode>{status}</ram:StatusCode><ram:IssueDateTime>"
        f"<udt:DateTimeString>{issued}</udt:DateTimeString></ram:IssueDateTime>"
        "</rsm:SPSExchangedDocument><rsm:SPSConsignment>"
        f"<ram:ConsigneeSPSParty>{consignee}<ram:Name>Buyer</ram:Name></ram:ConsigneeSPSParty>"
        "<ram:ExportSPSCountry><ram:ID>TR</ram:ID></ram:ExportSPSCountry>"
        f"<ram:IncludedSPSConsignmentItem>{lines}</ram:IncludedSPSConsignmentItem>"
        "</rsm:SPSConsignment></rsm:SPSCertificate>")


def line(seq: str, description: str, code: str | None, *, system: str = "HS",
         origin: str | None = None) -> str:
    classification = (f"<ram:ApplicableSPSClassification><ram:SystemName>{system}"
                      f"</ram:SystemName><ram:ClassCode>{code}</ram:ClassCode>"
                      "</ram:ApplicableSPSClassification>") if code else ""
    origin_xml = (f"<ram:OriginSPSCountry><ram:ID>{origin}</ram:ID></ram:OriginSPSCountry>"
                  if origin else "")
    return (f"<ram:IncludedSPSTradeLineItem><ram:SequenceNumeric>{seq}</ram:SequenceNumeric>"
            f"<ram:Description>{description}</ram:Description>{classification}{origin_xml}"
            "</ram:IncludedSPSTradeLineItem>")


def texts(el: etree._Element, path: str) -> list[str]:
    return [(e.text or "") for e in el.iterfind(path)]


def test_sps_maps_to_a_valid_native_certificate() -> None:
    native = sps(lines=line("1", "Apples", "0808.10", origin="GE")
                 + line("2", "Pears", "080830", system="HS2022")
                 + line("3", "Apples again", "080810")  # same HS code: listed once
                 + line("4", "Seeds", "1209", system="IPPCPCVP"))  # not an HS code
    out = sps_to_native(native, DEFAULTS)
    SCHEMAS.validate(out)
    assert [texts(out, C + t) for t in ("CertificateNumber", "CertificateType", "IssuedAt",
                                        "ValidUntil", "ConsigneeTaxId", "OriginCountry")] == [
        ["EPHYTO-1"], ["PHYTOSANITARY"], ["2026-12-01T09:00:00+04:00"], ["2026-12-31"],
        ["0000000000"], ["GE"]]
    assert texts(out, f"{C}Goods/{C}HSCode") == ["080810", "080830"]
    assert texts(out, f"{C}Goods/{C}Description") == ["Apples", "Pears"]


@pytest.mark.parametrize(("code", "kind"), [("851", "PHYTOSANITARY"), ("657", "PHYTOSANITARY"),
                                            ("852", "SANITARY"), ("853", "VETERINARY")])
def test_sps_document_types(code: str, kind: str) -> None:
    assert texts(sps_to_native(sps(type_code=code), DEFAULTS), C + "CertificateType") == [kind]


def test_sps_defaults_and_overrides() -> None:
    defaults = MappingDefaults(fallback_tax_id="9999999999", sps_validity_days=1)
    out = sps_to_native(sps(lines=line("1", "Nuts", "0802")), defaults)
    assert texts(out, C + "ConsigneeTaxId") == ["9999999999"]
    assert texts(out, C + "ValidUntil") == ["2026-12-02"]
    assert texts(out, C + "OriginCountry") == ["TR"]  # no origin on the line: export country
    assert texts(out, f"{C}Goods/{C}HSCode") == ["080200"]
    named = sps_to_native(sps(consignee_id="AZ1234567890"), DEFAULTS)
    assert texts(named, C + "ConsigneeTaxId") == ["1234567890"]


@pytest.mark.parametrize(("written", "native"), [
    ("2026-12-01T09:00:00Z", "2026-12-01T09:00:00Z"),
    ("2026-12-01T09:00:00.123456789-05:00", "2026-12-01T09:00:00.123456789-05:00"),
    ("2026-12-01T09:00:00", "2026-12-01T09:00:00Z"),
    ("2026-12-01", "2026-12-01T00:00:00Z"),
    ("20261201", "2026-12-01T00:00:00Z"),
    ("202612010930", "2026-12-01T09:30:00Z"),
    ("20261201093015", "2026-12-01T09:30:15Z"),
    ("20261301", None), ("yesterday", None), (None, None),
])
def test_sps_issue_times(written: str | None, native: str | None) -> None:
    assert issued_at(written) == native


@pytest.mark.parametrize(("document", "path"), [
    (sps(number="X" * 36), "/SPSCertificate/SPSExchangedDocument/ID"),
    (sps(type_code="861"), "/SPSCertificate/SPSExchangedDocument/TypeCode"),
    (sps(issued="soon"), "/SPSCertificate/SPSExchangedDocument/IssueDateTime"),
    (sps(lines=line("1", "Widgets", None)),
     "/SPSCertificate/SPSConsignment/IncludedSPSConsignmentItem"),
])
def test_sps_unusable_documents_are_schema_invalid(document: etree._Element, path: str) -> None:
    with pytest.raises(SchemaInvalid) as caught:
        sps_to_native(document, DEFAULTS)
    assert [d.path for d in caught.value.details] == [path]


@pytest.mark.parametrize("status", ["40", "41"])
def test_sps_withdrawn_or_rejected_is_not_registered(status: str) -> None:
    with pytest.raises(BusinessRuleViolation) as caught:
        sps_to_native(sps(status=status), DEFAULTS)
    assert [d.rule for d in caught.value.details] == ["SPS_STATUS"]


def test_sps_too_many_hs_codes() -> None:
    lines = "".join(line(str(n), "x", f"{100000 + n}") for n in range(100))
    with pytest.raises(SchemaInvalid):
        sps_to_native(sps(lines=lines), DEFAULTS)


# -- WCO DEC-DMS -----------------------------------------------------------------------------


def wco(*, function: str = "9", type_code: str = "IMA", header: str = "",
        shipment: str = "", items: str | None = None) -> etree._Element:
    if items is None:
        items = item("1")
    return etree.fromstring(
        f'<Declaration xmlns="{DEC}"><FunctionCode>{function}</FunctionCode>'
        f"<FunctionalReferenceID>LRN-WCO-1</FunctionalReferenceID><TypeCode>{type_code}"
        f"</TypeCode>{header}<GoodsShipment>{shipment}{items}</GoodsShipment></Declaration>")


def item(seq: str, *, code: str | None = "85109000", extra: str = "", origin: str = "US",
         charge: str | None = '<ItemChargeAmount currencyID="GBP">1000.005</ItemChargeAmount>',
         measures: str = "<GrossMassMeasure>150</GrossMassMeasure>"
                         "<NetNetWeightMeasure>100.1234</NetNetWeightMeasure>",
         procedure: str = "40") -> str:
    classification = (f"<Classification><ID>{code}</ID><IdentificationTypeCode>TSP"
                      "</IdentificationTypeCode></Classification>") if code else ""
    invoice = f"<InvoiceLine>{charge}</InvoiceLine>" if charge else ""
    return (f"<GovernmentAgencyGoodsItem><SequenceNumeric>{seq}</SequenceNumeric>{extra}"
            f"<Commodity><Description>Shaver parts</Description>{classification}"
            f"<GoodsMeasure>{measures}</GoodsMeasure>{invoice}</Commodity>"
            f"<GovernmentProcedure><CurrentCode>{procedure}</CurrentCode></GovernmentProcedure>"
            f"<Origin><CountryCode>{origin}</CountryCode></Origin></GovernmentAgencyGoodsItem>")


def fee(type_code: str, amount: str, currency: str = "GBP") -> str:
    return (f"<DutyTaxFee><TypeCode>{type_code}</TypeCode><Payment><TaxAssessedAmount "
            f'currencyID="{currency}">{amount}</TaxAssessedAmount></Payment></DutyTaxFee>')


def test_wco_import_maps_to_a_valid_native_declaration() -> None:
    header = ("<BorderTransportMeans><RegistrationNationalityCode>US</RegistrationNationalityCode>"
              "<ModeCode>1</ModeCode></BorderTransportMeans><Exporter><Name>US Clipper Inc."
              "</Name><Address><CountryCode>US</CountryCode></Address></Exporter>")
    shipment = ("<Consignment><ArrivalTransportMeans><ID>12345</ID></ArrivalTransportMeans>"
                "<GoodsLocation><Name>WLALONBTW</Name></GoodsLocation></Consignment>"
                "<Importer><ID>AZ1234567890</ID></Importer>")
    taxed = item("2", code="0808.10.80", extra="<AdditionalDocument><CategoryCode>N"
                 "</CategoryCode><ID>PHY-2026-0001</ID><TypeCode>851</TypeCode>"
                 "</AdditionalDocument>",
                 charge=None, measures="").replace(
        "<GoodsMeasure></GoodsMeasure>",
        f"<GoodsMeasure/>{fee('A00', '20.00')}{fee('B00', '204.004')}{fee('A30', '1')}"
        f"{fee('411', '5', 'EUR')}{fee('ZZZ', '9')}")
    out = wco_to_native(wco(header=header, shipment=shipment, items=item("1") + taxed),
                        "BRK-0001", DEFAULTS)
    SCHEMAS.validate(out)
    first = {etree.QName(e).localname: e.text for e in out if e.text}
    assert first == {"ProcedureType": "IM", "LocalReferenceNumber": "LRN-WCO-1",
                     "CustomsOffice": "WLALONBTW", "Declarant": "BRK-0001",
                     "BorderCrossingPoint": "WLALONBTW", "InvoiceCurrency": "GBP",
                     "TotalInvoiceAmount": "1000.01"}
    assert texts(out, f"{D}Consignor/{D}Name") == ["US Clipper Inc."]
    assert texts(out, f"{D}Consignee/*") == ["AZ1234567890", "1234567890", "AZ"]
    assert texts(out, f"{D}TransportMeans/*") == ["SEA", "12345", "US"]
    assert texts(out, f"{D}GoodsItem/{D}HSCode") == ["85109000", "08081080"]
    assert texts(out, f"{D}GoodsItem/{D}GrossMassKg") == ["150.000", "0.001"]
    assert texts(out, f"{D}GoodsItem/{D}NetMassKg") == ["100.123", "0.001"]
    assert texts(out, f"{D}GoodsItem/{D}InvoiceAmount") == ["1000.01", "0.00"]
    assert texts(out, f"{D}GoodsItem/{D}Document/*") == ["PHYTOSANITARY", "PHY-2026-0001"]
    taxes = [tuple(texts(t, "*")) for t in out.iterfind(D + "Tax")]
    assert taxes == [("DUTY", "21.00", "GBP"), ("EXCISE", "5.00", "EUR"), ("VAT", "204.00", "GBP")]


def test_wco_export_and_co_procedures() -> None:
    export = wco_to_native(wco(type_code="EXD", header="<ExitOffice><ID>GB000040</ID>"
                               "</ExitOffice>"), "TRD-0001", DEFAULTS)
    assert texts(export, D + "ProcedureType") == ["EX"]
    assert texts(export, D + "CustomsOffice") == ["GB000040"]
    assert texts(export, D + "BorderCrossingPoint") == ["GB000040"]
    assert texts(export, D + "Declarant") == ["TRD-0001"]
    assert texts(wco_to_native(wco(type_code="COA", items=item("1", procedure="1040")),
                               "BRK-0001", DEFAULTS), D + "ProcedureType") == ["EX"]
    assert texts(wco_to_native(wco(type_code="COA"), "BRK-0001", DEFAULTS),
                 D + "ProcedureType") == ["IM"]


def test_wco_defaults_where_nothing_fits() -> None:
    defaults = MappingDefaults(fallback_office="AZ-HQ")
    out = wco_to_native(wco(items=item("1", charge=None, origin="")), "BRK-0001", defaults)
    SCHEMAS.validate(out)
    assert texts(out, D + "CustomsOffice") == ["AZ-HQ"]
    assert texts(out, D + "BorderCrossingPoint") == ["AZ-HQ"]
    assert texts(out, f"{D}Consignor/*") == ["Not declared", "ZZ"]
    assert texts(out, f"{D}Consignee/*") == ["Not declared", "0000000000", "ZZ"]
    assert texts(out, f"{D}TransportMeans/*") == ["ROAD", "Not declared", "ZZ"]
    assert texts(out, D + "InvoiceCurrency") == ["XXX"]
    assert texts(out, f"{D}GoodsItem/{D}OriginCountry") == ["ZZ"]


@pytest.mark.parametrize(("document", "rule"), [
    (wco(function="13"), "WCO_FUNCTION_CODE"),
    (wco(items=item("1") + item("2", code=None)), "WCO_COMMODITY_CODE"),
])
def test_wco_refusals(document: etree._Element, rule: str) -> None:
    with pytest.raises(BusinessRuleViolation) as caught:
        wco_to_native(document, "BRK-0001", DEFAULTS)
    assert [d.rule for d in caught.value.details] == [rule]


@pytest.mark.parametrize(("document", "path"), [
    (wco(type_code="GPR"), "/Declaration/TypeCode"),
    (wco(items=""), "/Declaration/GoodsShipment"),
    (etree.fromstring(f'<Declaration xmlns="{DEC}"><FunctionCode>9</FunctionCode>'
                      "</Declaration>"), "/Declaration/FunctionalReferenceID"),
])
def test_wco_unusable_documents_are_schema_invalid(document: etree._Element, path: str) -> None:
    with pytest.raises(SchemaInvalid) as caught:
        wco_to_native(document, "BRK-0001", DEFAULTS)
    assert [d.path for d in caught.value.details] == [path]


def test_value_normalisers() -> None:
    assert [hs_code(v) for v in ("0808", "08081", "0808.10", "85 10 90 00 00 99", "080", None)] \
        == ["080800", "080810", "080810", "8510900000", None, None]
    assert [mass_text(v) for v in (None, Decimal(0), Decimal("0.0004"), Decimal("0.0005"),
                                   Decimal("12.3456"))] == ["0.001", "0.001", "0.001", "0.001",
                                                           "12.346"]
    assert [tax_id(v, DEFAULTS) for v in ("1234567890", "az1234567890", "GB123", None)] == [
        "1234567890", "1234567890", "0000000000", "0000000000"]


@pytest.mark.parametrize(("key", "value"), [("FALLBACK_TAX_ID", "12345"),
                                            ("FALLBACK_OFFICE", "baku main"),
                                            ("SPS_VALIDITY_DAYS", "0")])
def test_international_settings_are_checked(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"UAMS_INTERNATIONAL_{key}"):
        load_config(None, environ={f"UAMS_INTERNATIONAL_{key}": value})
    assert load_config(None, environ={}).international.sps_schema is None
