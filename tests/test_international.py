"""Real international documents through the running gateway (docs/international.md):
UN/CEFACT SPSCertificate:17 ePhyto samples and UK CDS (WCO DEC-DMS:2) declarations, with
the operator's schema packs configured from the shared sample data."""

from __future__ import annotations

import asyncio
import csv
import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from gateway.app import Gateway, start_gateway
from gateway.client import UamsClient
from gateway.config import Config, ConfigError, InternationalSection
from gateway.international import load_formats
from gateway.sign import sign_envelope
from protocol.international.common import MappingDefaults
from protocol.international.sps import sps_to_native
from tests.border import Status, accepted, report_rows, send, status_of
from tests.builders import declaration, envelope, goods_item
from tests.conftest import PARTICIPANTS_FILE, SHARED_DATA, client_context, make_config

pytestmark = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason=f"the shared sample data folder ({SHARED_DATA}) beside the repository is absent")

EPHYTO = SHARED_DATA / "can-intercom-ephyto"
SPS_PACKS = {
    "estandar": EPHYTO / "XSD-Estandar-CFE/cfe-xsd/data/standard/SPSCertificate_17p0.xsd",
    "validaciones": EPHYTO / "XSD-Validaciones-CFE/cfe-xsd/data/standard/SPSCertificate_17p0.xsd",
}
REMOTE_PACK = EPHYTO / "XSD-Validaciones-CFE/cfe-xsd/data/standard/SPSCertificate_17p0T.xsd"
SPS_SAMPLES = EPHYTO / "XSD-Estandar-CFE/cfe-xml"
UNSIGNED = ["SPSCertificate.xml", "SPSCertificate (Comentarios).XML"]
SIGNED = ["SPSCertificate-signed.xml", "SPSCertificate-signed1.xml"]
CDS = SHARED_DATA / "hmrc-customs-declarations"
WCO_PACK = CDS / "schemas/wco/declaration/WCO_DEC_2_DMS.xsd"
DEC = "urn:wco:datamodel:WCO:DEC-DMS:2"
W = {"d": DEC}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          remove_comments=True)


def non_signing_registry(tmp_path: Path) -> Path:
    """The shipped registry with every ministry non-signing: the samples are signed by
    foreign NPPO keys, which no ministry of ours holds."""
    text = re.sub(r"(?m)^signing = true$", "signing = false", PARTICIPANTS_FILE.read_text())
    path = tmp_path / "participants.toml"
    path.write_text(text)
    return path



def international_config(pki_dir: Path, tmp_path: Path, sps_pack: Path = SPS_PACKS["estandar"],
                         **env: str) -> Config:
    return make_config(pki_dir, tmp_path, INTERNATIONAL_SPS_SCHEMA=str(sps_pack),
                       INTERNATIONAL_WCO_SCHEMA=str(WCO_PACK),
                       PARTICIPANTS_FILE=str(non_signing_registry(tmp_path)), **env)


@pytest.fixture
def config(pki_dir: Path, tmp_path: Path) -> Config:
    return international_config(pki_dir, tmp_path)


def body_of(path: Path) -> str:
    """A sample's document element, as the Body of an envelope."""
    root = etree.parse(str(path), _PARSER).getroot()
    return etree.tostring(root, encoding="unicode")


# -- SPS certificates -------------------------------------------------------------------------


@pytest.mark.parametrize("pack", sorted(SPS_PACKS))
@pytest.mark.parametrize("sample", UNSIGNED)
async def test_sps_sample_registers_as_a_native_certificate(
        pki_dir: Path, tmp_path: Path, pack: str, sample: str) -> None:
    gateway = await start_gateway(international_config(pki_dir, tmp_path, SPS_PACKS[pack]))
    try:
        async with await _client(gateway, pki_dir, "MOA-0001") as moa:
            payload = envelope("ElectronicCertificate", body_of(SPS_SAMPLES / sample),
                               sender="MOA-0001")
            reply = await accepted(moa, payload)
            assert (reply.reference, reply.status) == ("123456789CO", "VALID")
            found = await status_of(moa, "MOA-0001", "123456789CO")
            assert isinstance(found, Status) and found.kind == "CERTIFICATE"
            again = await send(moa, envelope("ElectronicCertificate",
                                             body_of(SPS_SAMPLES / sample), sender="MOA-0001"))
            assert [d.rule for d in again.details] == ["CERTIFICATE_NUMBER_UNIQUE"]
    finally:
        await gateway.stop()


@pytest.mark.parametrize("sample", SIGNED)
async def test_real_signed_sps_samples_are_refused_as_unverifiable(connect, sample: str) -> None:
    """The published signed samples cannot be verified, so they are refused: their single
    Reference has no URI attribute (XML-DSig leaves the referent to the application; the
    verifier supports only `URI=""` or `#Id`), their signer certificate expired on
    2025-08-19, and no ministry of ours registered that foreign certificate. A signature
    that is present is verified or the document is refused — never ignored."""
    moa = await connect("MOA-0001")
    reply = await send(moa, envelope("ElectronicCertificate", body_of(SPS_SAMPLES / sample),
                                     sender="MOA-0001"))
    assert (reply.code, reply.retryable) == ("SIGNATURE_INVALID", False), reply.text


async def test_sps_certificate_signed_by_the_ministry_is_verified(pki_dir: Path,
                                                                 tmp_path: Path) -> None:
    """The real unsigned sample, signed with the ministry's registered key (as
    `uams-gateway sign` does), is verified, translated and registered; altered after
    signing, it is refused."""
    registry = tmp_path / "signing.toml"
    text = non_signing_registry(tmp_path).read_text()
    moa = text.index('id = "MOA-0001"')
    registry.write_text(text[:moa] + re.sub(r"(?m)^signing = false$", "signing = true",
                                            text[moa:], count=1))
    config = make_config(pki_dir, tmp_path, INTERNATIONAL_SPS_SCHEMA=str(SPS_PACKS["estandar"]),
                         INTERNATIONAL_WCO_SCHEMA=str(WCO_PACK),
                         PARTICIPANTS_FILE=str(registry))
    unsigned = envelope("ElectronicCertificate", body_of(SPS_SAMPLES / "SPSCertificate.xml"),
                        sender="MOA-0001")
    signed = sign_envelope(unsigned, (pki_dir / "MOA-0001.key").read_bytes(),
                           (pki_dir / "MOA-0001.crt").read_text())
    altered = signed.replace(b"123456789CO", b"123456780CO", 1)
    gateway = await start_gateway(config)
    try:
        async with await _client(gateway, pki_dir, "MOA-0001") as moa:
            missing = await send(moa, unsigned)
            assert missing.code == "SIGNATURE_INVALID", "this ministry must sign"
            tampered = await send(moa, altered)
            assert tampered.code == "SIGNATURE_INVALID", tampered.text
            reply = await accepted(moa, signed)
            assert (reply.reference, reply.status) == ("123456789CO", "VALID")
    finally:
        await gateway.stop()


@pytest.mark.parametrize("sample", SIGNED)
def test_the_mapping_ignores_the_enveloped_signature(sample: str) -> None:
    signed = etree.parse(str(SPS_SAMPLES / sample), _PARSER).getroot()
    unsigned = etree.parse(str(SPS_SAMPLES / "SPSCertificate.xml"), _PARSER).getroot()
    assert signed.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None
    as_native = [etree.tostring(sps_to_native(el, MappingDefaults())) for el in (signed, unsigned)]
    assert as_native[0] == as_native[1]


async def test_translated_certificate_satisfies_a_declaration(gateway: Gateway, connect) -> None:
    """The certificate as translated is what the single-window rules see: a maize import for
    the fallback consignee, registered while the certificate is valid, needs no more."""
    moa, brk = await connect("MOA-0001"), await connect("BRK-0001")
    await accepted(moa, envelope("ElectronicCertificate",
                                 body_of(SPS_SAMPLES / "SPSCertificate.xml"), sender="MOA-0001"))
    gateway.server.pipeline.clock = lambda: datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    maize = [goods_item(hs="100590", documents=(("PHYTOSANITARY", "123456789CO"),))]
    reply = await accepted(brk, declaration(tax_id="0000000000", items=maize))
    assert reply.status == "RELEASED", reply.text
    gateway.server.pipeline.clock = lambda: datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    late = await send(brk, declaration(tax_id="0000000000", items=maize))
    assert late.code == "BUSINESS_RULE"  # ValidUntil = IssuedAt + 30 days has passed


async def test_sps_body_invalid_against_its_pack(connect) -> None:
    root = etree.parse(str(SPS_SAMPLES / "SPSCertificate.xml"), _PARSER).getroot()
    consignment = root.find("{urn:un:unece:uncefact:data:standard:SPSCertificate:17}"
                            "SPSConsignment")
    root.remove(consignment)
    moa = await connect("MOA-0001")
    reply = await send(moa, envelope("ElectronicCertificate",
                                     etree.tostring(root, encoding="unicode"), sender="MOA-0001"))
    assert reply.code == "SCHEMA_INVALID"
    assert [d.path for d in reply.details] == ["/Envelope/Body/SPSCertificate"]
    assert all(str(SHARED_DATA) not in d.text for d in reply.details)


async def test_formats_are_off_without_a_pack(pki_dir: Path, tmp_path: Path) -> None:
    gateway = await start_gateway(make_config(pki_dir, tmp_path))
    try:
        async with await _client(gateway, pki_dir, "MOA-0001") as moa:
            reply = await send(moa, envelope("ElectronicCertificate",
                                             body_of(SPS_SAMPLES / "SPSCertificate.xml"),
                                             sender="MOA-0001"))
            assert reply.code == "UNKNOWN_MESSAGE_TYPE"
    finally:
        await gateway.stop()


def test_a_pack_that_needs_the_network_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not compile from local files"):
        load_formats(InternationalSection(sps_schema=REMOTE_PACK))
    with pytest.raises(ConfigError, match="not found"):
        load_formats(InternationalSection(wco_schema=tmp_path / "missing.xsd"))
    assert load_formats(InternationalSection()) == {}


async def test_start_refuses_a_broken_pack(pki_dir: Path, tmp_path: Path) -> None:
    config = make_config(pki_dir, tmp_path, INTERNATIONAL_SPS_SCHEMA=str(REMOTE_PACK))
    with pytest.raises(ConfigError):
        await start_gateway(config)


# -- WCO declarations -------------------------------------------------------------------------


def valid_cds_samples() -> list[Path]:
    """The CDS submissions VALIDATION-samples.tsv found valid (MetaData + Declaration)."""
    with (SHARED_DATA / "VALIDATION-samples.tsv").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [SHARED_DATA / r["sample"] for r in rows
            if r["group"].startswith("HMRC CDS") and r["schema"].startswith("wrapper_submit")
            and r["result"] == "VALID"]


def _expected(decl: etree._Element, seen: set[str]) -> str:
    """What the gateway must answer, decided from the raw document."""
    if decl.findtext("d:FunctionCode", namespaces=W) != "9":
        return "BUSINESS_RULE:WCO_FUNCTION_CODE"
    for item in decl.iterfind("d:GoodsShipment/d:GovernmentAgencyGoodsItem", W):
        kinds = {c.findtext("d:IdentificationTypeCode", namespaces=W)
                 for c in item.iterfind("d:Commodity/d:Classification", W)}
        if not kinds & {"TSP", "CV"}:
            return "BUSINESS_RULE:WCO_COMMODITY_CODE"
    lrn = decl.findtext("d:FunctionalReferenceID", namespaces=W)
    if lrn in seen:
        return "BUSINESS_RULE:LRN_UNIQUE"
    seen.add(lrn)
    return "Receipt"


def _invoice(decl: etree._Element) -> tuple[str, Decimal]:
    """Invoice currency and total as docs/international.md defines them."""
    total = decl.find("d:InvoiceAmount", W)
    charges = decl.findall(".//d:GovernmentAgencyGoodsItem/d:Commodity/d:InvoiceLine/"
                           "d:ItemChargeAmount", W)
    currency = (total.get("currencyID") if total is not None
                else charges[0].get("currencyID") if charges else "XXX")
    if total is not None:
        return currency, Decimal(total.text)
    amount = Decimal(0)
    for item in decl.iterfind("d:GoodsShipment/d:GovernmentAgencyGoodsItem", W):
        value = (item.find("d:Commodity/d:InvoiceLine/d:ItemChargeAmount", W)
                 if item.find("d:Commodity/d:InvoiceLine/d:ItemChargeAmount", W) is not None
                 else item.find("d:StatisticalValueAmount", W))
        amount += Decimal(value.text) if value is not None else Decimal(0)
    return currency, amount


async def test_valid_cds_declarations_end_to_end(connect) -> None:
    samples = valid_cds_samples()
    assert len(samples) > 300
    brk, scc = await connect("BRK-0001"), await connect("SCC-OFF1")
    seen: set[str] = set()
    decls = [etree.parse(str(p), _PARSER).getroot().find(f"{{{DEC}}}Declaration")
             for p in samples]
    expected = [_expected(d, seen) for d in decls]
    payloads = [envelope("CustomsDeclaration", etree.tostring(d, encoding="unicode"),
                         sender="BRK-0001") for d in decls]
    replies = await asyncio.gather(*(send(brk, p) for p in payloads))
    got = ["Receipt" if r.is_receipt
           else f"{r.code}:{','.join(str(d.rule) for d in r.details)}" for r in replies]
    assert dict(zip(map(str, samples), got, strict=True)) == dict(
        zip(map(str, samples), expected, strict=True))
    assert got.count("Receipt") > 250

    by_currency: dict[str, list[Decimal]] = defaultdict(list)
    for decl, outcome in zip(decls, got, strict=True):
        if outcome == "Receipt":
            currency, amount = _invoice(decl)
            by_currency[currency].append(amount)
    today = datetime.now(UTC).date().isoformat()
    report = await send(scc, envelope("ReportRequest", (
        '<ReportRequest xmlns="urn:uams:report:1"><ReportType>FOREIGN_EXCHANGE</ReportType>'
        f"<From>{today}</From><To>{today}</To></ReportRequest>"), sender="SCC-OFF1"))
    assert report_rows(report) == [
        (c, str(len(a)), f"{sum(a, Decimal(0)).quantize(Decimal('0.01'))}")
        for c, a in sorted(by_currency.items())]
    first = next(d for d, o in zip(decls, got, strict=True) if o == "Receipt")
    lrn = first.findtext("d:FunctionalReferenceID", namespaces=W)
    found = await send(brk, envelope("StatusRequest", (
        f'<StatusRequest xmlns="urn:uams:status:1"><LocalReferenceNumber>{lrn}'
        "</LocalReferenceNumber></StatusRequest>"), sender="BRK-0001"))
    assert found.message_type == "StatusResponse", found.text


async def test_cds_declaration_invalid_against_its_pack(connect) -> None:
    sample = next(p for p in valid_cds_samples() if "TT_IM001a" in str(p))
    decl = etree.parse(str(sample), _PARSER).getroot().find(f"{{{DEC}}}Declaration")
    decl.find("d:TypeCode", W).text = "NOT-A-TYPE"
    brk = await connect("BRK-0001")
    reply = await send(brk, envelope("CustomsDeclaration", etree.tostring(decl, encoding="unicode"),
                                     sender="BRK-0001"))
    assert reply.code == "SCHEMA_INVALID"
    assert [d.path for d in reply.details] == ["/Envelope/Body/Declaration/TypeCode"]


async def _client(gateway: Gateway, pki_dir: Path, participant: str) -> UamsClient:
    assert gateway.tls_port is not None
    return await UamsClient.connect("127.0.0.1", gateway.tls_port,
                                    client_context(pki_dir, participant),
                                    server_hostname="localhost")


