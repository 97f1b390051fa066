"""The XML Schemas of UAMS/1 (protocol/xsd/) and the example messages (examples/).

Each test states one rule of the wire contract as the schemas enforce it; see docs/protocol.md.
Everything here is pure lxml (libxml2), the validator the gateway uses on the hot path.
"""

from __future__ import annotations

import copy
import re
import tempfile
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
XSD_DIR = ROOT / "protocol" / "xsd"
VALID_DIR = ROOT / "examples" / "valid"
INVALID_DIR = ROOT / "examples" / "invalid"

ENV = "urn:uams:envelope:1"
REPLY = "urn:uams:reply:1"
DECL = "urn:uams:declaration:1"
CERT = "urn:uams:certificate:1"
TRANSPORT = "urn:uams:transport:1"
ENFORCEMENT = "urn:uams:enforcement:1"
STATUS = "urn:uams:status:1"
REPORT = "urn:uams:report:1"
DS = "http://www.w3.org/2000/09/xmldsig#"

#: Request types of the contract and the namespace of their body element.
REQUEST_TYPES = {
    "CustomsDeclaration": DECL,
    "ControlDecision": DECL,
    "ElectronicCertificate": CERT,
    "CertificateRevocation": CERT,
    "VehiclePreArrival": TRANSPORT,
    "BorderCrossing": TRANSPORT,
    "OffenseReport": ENFORCEMENT,
    "StatusRequest": STATUS,
    "PullRequest": STATUS,
    "ReportRequest": REPORT,
}

ERROR_CODES = {
    "FRAME_TOO_LARGE", "MALFORMED_XML", "FORBIDDEN_XML", "SCHEMA_INVALID",
    "UNKNOWN_MESSAGE_TYPE", "SENDER_MISMATCH", "NOT_AUTHORIZED", "DUPLICATE_CONFLICT",
    "SIGNATURE_INVALID", "BUSINESS_RULE", "NOT_FOUND", "RATE_LIMITED", "UNAVAILABLE",
    "INTERNAL_ERROR", "TOO_MANY_ERRORS",
}

#: Invalid examples that are well-formed and schema-valid, so that the gateway gets as far as
#: the check they are meant to fail.
REACH_LATER_CHECKS = {
    "UNKNOWN_MESSAGE_TYPE", "SENDER_MISMATCH", "NOT_AUTHORIZED", "BUSINESS_RULE",
    "DUPLICATE_CONFLICT", "NOT_FOUND", "SIGNATURE_INVALID",
}


# --------------------------------------------------------------------------------------------
# helpers


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True)


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / "uams.xsd")))


def parse(data: bytes | str) -> etree._Element:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return etree.fromstring(data, _parser())


def is_valid(doc: etree._Element | bytes | str) -> bool:
    root = doc if isinstance(doc, etree._Element) else parse(doc)
    return bool(schema().validate(root))


def envelope(body: str, *, message_type: str = "X", header: str | None = None) -> str:
    if header is None:
        header = (f"<MessageId>m-1</MessageId><MessageType>{message_type}</MessageType>"
                  "<SenderId>BRK-0001</SenderId><SentAt>2026-12-03T10:15:00Z</SentAt>")
    return f'<Envelope xmlns="{ENV}"><Header>{header}</Header><Body>{body}</Body></Envelope>'


def example(name: str) -> etree._Element:
    return parse((VALID_DIR / name).read_bytes())


def declaration() -> etree._Element:
    """A fresh copy of a valid CustomsDeclaration envelope to mutate."""
    return copy.deepcopy(_declaration())


@cache
def _declaration() -> etree._Element:
    return example("05-declaration-machinery.BRK-0001.xml")


def certificate() -> etree._Element:
    return copy.deepcopy(_certificate())


@cache
def _certificate() -> etree._Element:
    return example("01-certificate-phytosanitary.MOA-0001.xml")


def first(root: etree._Element, local: str, ns: str) -> etree._Element:
    found = root.find(f".//{{{ns}}}{local}")
    assert found is not None, local
    return found


def body_of(root: etree._Element) -> etree._Element:
    return root.find(f"{{{ENV}}}Body")[0]


def sender_of(path: Path) -> str:
    """The participant a file is sent as: the part of its name before '.xml'."""
    return path.name.rsplit(".", 2)[-2]


def code_of(path: Path) -> str:
    return re.sub(r"-\d+$", "", path.name.split(".", 1)[0])


VALID_FILES = sorted(VALID_DIR.glob("*.xml"))
INVALID_FILES = sorted(INVALID_DIR.glob("*.xml"))


# --------------------------------------------------------------------------------------------
# the schema files


def test_schema_set_compiles_with_lxml() -> None:
    assert isinstance(etree.XMLSchema(etree.parse(str(XSD_DIR / "uams.xsd"))), etree.XMLSchema)


@pytest.mark.parametrize("name", ["envelope", "reply", "declaration", "certificate", "transport",
                                  "enforcement", "status", "report"])
def test_each_namespace_has_its_own_schema_file_that_compiles_alone(name: str) -> None:
    tree = etree.parse(str(XSD_DIR / f"{name}.xsd"))
    assert tree.getroot().get("targetNamespace") == f"urn:uams:{name}:1"
    assert tree.getroot().get("elementFormDefault") == "qualified"
    etree.XMLSchema(tree)


def test_driver_schema_imports_every_namespace_and_declares_nothing() -> None:
    root = etree.parse(str(XSD_DIR / "uams.xsd")).getroot()
    xs = "{http://www.w3.org/2001/XMLSchema}"
    imported = {i.get("namespace"): i.get("schemaLocation") for i in root.iter(f"{xs}import")}
    assert imported == {f"urn:uams:{n}:1": f"{n}.xsd" for n in (
        "envelope", "reply", "declaration", "certificate", "transport", "enforcement", "status",
        "report")}
    assert root.find(f"{xs}element") is None


def test_no_xsd_uses_unbounded() -> None:
    for path in XSD_DIR.glob("*.xsd"):
        assert "unbounded" not in path.read_text(encoding="utf-8"), path.name


def test_every_max_occurs_is_a_number() -> None:
    for path in XSD_DIR.glob("*.xsd"):
        for el in etree.parse(str(path)).iter():
            value = el.get("maxOccurs") if isinstance(el.tag, str) else None
            assert value is None or value.isdigit(), (path.name, value)


def test_every_xsd_starts_with_a_header_comment() -> None:
    for path in XSD_DIR.glob("*.xsd"):
        text = path.read_text(encoding="utf-8")
        assert re.match(r'<\?xml [^>]*\?>\s*<!--', text), path.name


# --------------------------------------------------------------------------------------------
# the examples


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: p.name)
def test_valid_example_validates(path: Path) -> None:
    root = parse(path.read_bytes())
    assert schema().validate(root), schema().error_log.last_error
    # Its header names the participant it is sent as, and its body matches MessageType.
    assert root.findtext(f"{{{ENV}}}Header/{{{ENV}}}SenderId") == sender_of(path)
    message_type = root.findtext(f"{{{ENV}}}Header/{{{ENV}}}MessageType")
    assert body_of(root).tag == f"{{{REQUEST_TYPES[message_type]}}}{message_type}"


def test_every_request_type_has_a_valid_example() -> None:
    seen = {parse(p.read_bytes()).findtext(f"{{{ENV}}}Header/{{{ENV}}}MessageType")
            for p in VALID_FILES}
    assert seen == set(REQUEST_TYPES)


def test_every_report_type_has_a_valid_example() -> None:
    bodies = [body_of(parse(p.read_bytes())) for p in VALID_FILES]
    seen = {b.findtext(f"{{{REPORT}}}ReportType") for b in bodies
            if b.tag == f"{{{REPORT}}}ReportRequest"}
    assert seen == {"FINANCIAL", "FOREIGN_EXCHANGE", "TRAFFIC"}


def test_valid_examples_have_distinct_message_ids() -> None:
    ids = [parse(p.read_bytes()).findtext(f"{{{ENV}}}Header/{{{ENV}}}MessageId")
           for p in VALID_FILES]
    assert len(ids) == len(set(ids))


def test_invalid_examples_are_named_after_their_code() -> None:
    assert INVALID_FILES
    for path in INVALID_FILES:
        assert code_of(path) in ERROR_CODES, path.name
        assert re.fullmatch(r"[A-Z0-9-]{2,32}", sender_of(path)), path.name


@pytest.mark.parametrize("path", [p for p in INVALID_FILES if code_of(p) == "SCHEMA_INVALID"],
                         ids=lambda p: p.name)
def test_schema_invalid_example_fails(path: Path) -> None:
    assert not is_valid(path.read_bytes())


@pytest.mark.parametrize("path", [p for p in INVALID_FILES if code_of(p) in REACH_LATER_CHECKS],
                         ids=lambda p: p.name)
def test_other_invalid_examples_pass_the_schema_to_reach_their_check(path: Path) -> None:
    assert is_valid(path.read_bytes()), schema().error_log.last_error


def test_malformed_example_is_not_well_formed() -> None:
    with pytest.raises(etree.XMLSyntaxError):
        parse((INVALID_DIR / "MALFORMED_XML.BRK-0001.xml").read_bytes())


def test_forbidden_example_has_a_doctype_with_an_entity() -> None:
    data = (INVALID_DIR / "FORBIDDEN_XML.BRK-0001.xml").read_bytes()
    assert b"<!DOCTYPE" in data and b"<!ENTITY" in data
    assert parse(data).getroottree().docinfo.internalDTD is not None


def test_business_rule_pair_reuses_a_local_reference_number_under_new_message_ids() -> None:
    a, b = (parse((INVALID_DIR / f"BUSINESS_RULE-{n}.BRK-0001.xml").read_bytes()) for n in (1, 2))
    lrn = "LocalReferenceNumber"
    assert first(a, lrn, DECL).text == first(b, lrn, DECL).text
    assert first(a, "MessageId", ENV).text != first(b, "MessageId", ENV).text


def test_duplicate_conflict_pair_reuses_a_message_id_with_another_body() -> None:
    a, b = (parse((INVALID_DIR / f"DUPLICATE_CONFLICT-{n}.BRK-0001.xml").read_bytes())
            for n in (1, 2))
    assert first(a, "MessageId", ENV).text == first(b, "MessageId", ENV).text
    c14n = [etree.tostring(body_of(x), method="c14n", exclusive=True) for x in (a, b)]
    assert c14n[0] != c14n[1]


def test_sender_mismatch_example_names_another_sender_than_its_connection() -> None:
    path = INVALID_DIR / "SENDER_MISMATCH.BRK-0001.xml"
    assert first(parse(path.read_bytes()), "SenderId", ENV).text != sender_of(path)


# --------------------------------------------------------------------------------------------
# envelope


def test_header_without_optional_fields_and_with_all_of_them_in_order() -> None:
    full = ("<MessageId>m-1</MessageId><MessageType>X</MessageType><SenderId>BRK-0001</SenderId>"
            "<RecipientId>SCC</RecipientId><SentAt>2026-12-03T10:15:00Z</SentAt>"
            "<CorrelationId>req:42</CorrelationId>")
    assert is_valid(envelope('<x:A xmlns:x="urn:example:1"/>'))
    assert is_valid(envelope('<x:A xmlns:x="urn:example:1"/>', header=full))


def test_header_elements_in_another_order_are_refused() -> None:
    swapped = ("<MessageId>m-1</MessageId><SenderId>BRK-0001</SenderId><MessageType>X</MessageType>"
               "<SentAt>2026-12-03T10:15:00Z</SentAt>")
    late_recipient = ("<MessageId>m-1</MessageId><MessageType>X</MessageType>"
                      "<SenderId>BRK-0001</SenderId><SentAt>2026-12-03T10:15:00Z</SentAt>"
                      "<RecipientId>SCC</RecipientId>")
    assert not is_valid(envelope('<x:A xmlns:x="urn:example:1"/>', header=swapped))
    assert not is_valid(envelope('<x:A xmlns:x="urn:example:1"/>', header=late_recipient))


@pytest.mark.parametrize("sent_at, ok", [
    ("2026-12-03T10:15:00Z", True),
    ("2026-12-03T14:15:00+04:00", True),
    ("2026-12-03T10:15:00.412Z", True),
    ("2026-12-03T10:15:00", False),        # no time zone
    ("2026-12-03T10:15:00.412", False),
    ("2026-12-03", False),
    ("2026-12-03T24:00:00Z", False),       # valid XSD, but not a time of day
    ("2026-12-03T10:15:00+15:00", False),
])
def test_sent_at_needs_a_time_zone(sent_at: str, ok: bool) -> None:
    header = ("<MessageId>m-1</MessageId><MessageType>X</MessageType><SenderId>BRK-0001</SenderId>"
              f"<SentAt>{sent_at}</SentAt>")
    assert is_valid(envelope('<x:A xmlns:x="urn:example:1"/>', header=header)) is ok


@pytest.mark.parametrize("field, value, ok", [
    ("MessageId", "6f1c2a7e-0b1d-4c39-9a4e-2d9a0f5b7c11", True),
    ("MessageId", "a" * 64, True),
    ("MessageId", "a" * 65, False),
    ("MessageId", "", False),
    ("MessageId", "has space", False),
    ("MessageId", "slash/no", False),
    ("MessageType", "CustomsDeclaration", True),
    ("MessageType", "Customs_Declaration", False),
    ("MessageType", "A" * 65, False),
    ("SenderId", "B", False),
    ("SenderId", "brk-0001", False),
    ("SenderId", "B" * 33, False),
])
def test_header_field_lexical_rules(field: str, value: str, ok: bool) -> None:
    values = {"MessageId": "m-1", "MessageType": "X", "SenderId": "BRK-0001"} | {field: value}
    header = (f"<MessageId>{values['MessageId']}</MessageId>"
              f"<MessageType>{values['MessageType']}</MessageType>"
              f"<SenderId>{values['SenderId']}</SenderId><SentAt>2026-12-03T10:15:00Z</SentAt>")
    assert is_valid(envelope('<x:A xmlns:x="urn:example:1"/>', header=header)) is ok


def test_body_with_two_elements_is_refused() -> None:
    assert not is_valid(envelope('<x:A xmlns:x="urn:example:1"/><x:B xmlns:x="urn:example:1"/>'))


def test_body_must_hold_an_element_of_another_namespace() -> None:
    assert not is_valid(envelope(""))
    assert not is_valid(envelope("<A/>"))                 # the envelope's own namespace
    assert not is_valid(envelope('<A xmlns=""/>'))        # no namespace
    assert not is_valid(envelope('text<x:A xmlns:x="urn:example:1"/>'))


def test_body_of_an_unknown_namespace_passes_the_envelope_schema() -> None:
    # Lax: registered international formats are validated separately; unknown types are
    # refused by the gateway as UNKNOWN_MESSAGE_TYPE, not by this schema.
    assert is_valid(envelope('<x:Foo xmlns:x="urn:example:1"><x:Bar/></x:Foo>'))


def test_a_uams_body_is_validated_strictly_inside_the_envelope() -> None:
    doc = declaration()
    first(doc, "HSCode", DECL).text = "12"
    assert not is_valid(doc)


def test_xsi_schema_location_in_a_document_is_ignored() -> None:
    # A hint to a schema that would refuse the body: if it were followed, validation would fail.
    hinted = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'targetNamespace="urn:example:hinted:1"><xs:element name="Foo" type="xs:int"/></xs:schema>')
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    with tempfile.NamedTemporaryFile("w", suffix=".xsd", encoding="utf-8") as f:
        f.write(hinted)
        f.flush()
        hint = f"urn:example:hinted:1 {Path(f.name).as_uri()}"
        doc = parse(envelope(f'<h:Foo xmlns:h="urn:example:hinted:1" xmlns:xsi="{xsi}" '
                             f'xsi:schemaLocation="{hint}">not a number</h:Foo>'))
        doc.set(f"{{{xsi}}}schemaLocation", hint)
        assert is_valid(doc), schema().error_log.last_error
        # ...and a hint never loosens our own schemas either.
        doc = declaration()
        first(doc, "HSCode", DECL).text = "12"
        doc.set(f"{{{xsi}}}schemaLocation", f"{DECL} {Path(f.name).as_uri()}")
        assert not is_valid(doc)


# --------------------------------------------------------------------------------------------
# replies


RECEIPT = f"""
<Receipt xmlns="{REPLY}">
  <RefMessageId>6f1c2a7e-0b1d-4c39-9a4e-2d9a0f5b7c11</RefMessageId>
  <ReceivedAt>2026-12-03T10:15:00.412Z</ReceivedAt>
  <Reference>AZ-DEC-2026-0000042</Reference>
  <Status>RELEASED</Status>
  <Duplicate>false</Duplicate>
</Receipt>"""

REJECTION = f"""
<Rejection xmlns="{REPLY}">
  <RefMessageId>6f1c2a7e-0b1d-4c39-9a4e-2d9a0f5b7c11</RefMessageId>
  <Code>SCHEMA_INVALID</Code>
  <Reason>The message does not match its schema.</Reason>
  <Detail line="14" path="/Envelope/Body/CustomsDeclaration/GoodsItem[2]/HSCode"
    >HSCode: 6 to 10 digits.</Detail>
  <Detail rule="hs-code">Second detail.</Detail>
  <Retryable>false</Retryable>
</Rejection>"""


def reply_envelope(body: str, message_type: str) -> str:
    header = (f"<MessageId>r-1</MessageId><MessageType>{message_type}</MessageType>"
              "<SenderId>SCC</SenderId><RecipientId>BRK-0001</RecipientId>"
              "<SentAt>2026-12-03T10:15:00.413Z</SentAt>"
              "<CorrelationId>6f1c2a7e-0b1d-4c39-9a4e-2d9a0f5b7c11</CorrelationId>")
    return envelope(body, header=header)


def test_receipt_validates_inside_an_envelope() -> None:
    assert is_valid(reply_envelope(RECEIPT, "Receipt")), schema().error_log.last_error


def test_rejection_validates_inside_an_envelope() -> None:
    assert is_valid(reply_envelope(REJECTION, "Rejection")), schema().error_log.last_error


def test_minimal_rejection_without_ref_message_id_or_details() -> None:
    body = (f'<Rejection xmlns="{REPLY}"><Code>MALFORMED_XML</Code>'
            "<Reason>The message is not well-formed UTF-8 XML.</Reason>"
            "<Retryable>false</Retryable></Rejection>")
    assert is_valid(reply_envelope(body, "Rejection"))


def test_receipt_without_reference_validates() -> None:
    body = RECEIPT.replace("<Reference>AZ-DEC-2026-0000042</Reference>", "")
    assert is_valid(reply_envelope(body, "Receipt"))


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_error_code_is_allowed(code: str) -> None:
    body = REJECTION.replace("<Code>SCHEMA_INVALID</Code>", f"<Code>{code}</Code>")
    assert is_valid(reply_envelope(body, "Rejection"))


def test_unknown_error_code_is_refused() -> None:
    body = REJECTION.replace("<Code>SCHEMA_INVALID</Code>", "<Code>OOPS</Code>")
    assert not is_valid(reply_envelope(body, "Rejection"))


def test_rejection_carries_at_most_20_details() -> None:
    detail = "<Detail>x</Detail>"
    for n, ok in ((20, True), (21, False)):
        body = (f'<Rejection xmlns="{REPLY}"><Code>BUSINESS_RULE</Code><Reason>r</Reason>'
                f"{detail * n}<Retryable>false</Retryable></Rejection>")
        assert is_valid(reply_envelope(body, "Rejection")) is ok, n


def test_detail_text_and_attributes_are_bounded() -> None:
    for detail, ok in (
        (f"<Detail>{'x' * 512}</Detail>", True),
        (f"<Detail>{'x' * 513}</Detail>", False),
        ('<Detail line="0">x</Detail>', False),
        (f'<Detail path="{"p" * 513}">x</Detail>', False),
        (f'<Detail rule="{"r" * 129}">x</Detail>', False),
        ('<Detail other="1">x</Detail>', False),
    ):
        body = (f'<Rejection xmlns="{REPLY}"><Code>BUSINESS_RULE</Code><Reason>r</Reason>'
                f"{detail}<Retryable>false</Retryable></Rejection>")
        assert is_valid(reply_envelope(body, "Rejection")) is ok, detail[:40]


def test_receipt_status_is_an_uppercase_word() -> None:
    assert not is_valid(reply_envelope(RECEIPT.replace("RELEASED", "released"), "Receipt"))
    assert not is_valid(reply_envelope(RECEIPT.replace("RELEASED", "R" * 33), "Receipt"))


# --------------------------------------------------------------------------------------------
# CustomsDeclaration


def with_goods_items(count: int) -> etree._Element:
    doc = declaration()
    decl = body_of(doc)
    items = decl.findall(f"{{{DECL}}}GoodsItem")
    template = items[0]
    for item in items:
        decl.remove(item)
    position = list(decl).index(decl.find(f"{{{DECL}}}TotalInvoiceAmount")) + 1
    for n in range(count):
        item = copy.deepcopy(template)
        item.find(f"{{{DECL}}}SequenceNumber").text = str(n % 999 + 1)
        decl.insert(position + n, item)
    return doc


def test_999_goods_items_are_accepted() -> None:
    assert is_valid(with_goods_items(999)), schema().error_log.last_error


def test_1000_goods_items_are_refused() -> None:
    assert not is_valid(with_goods_items(1000))


def test_a_declaration_needs_a_goods_item() -> None:
    assert not is_valid(with_goods_items(0))


@pytest.mark.parametrize("local, value, ok", [
    ("HSCode", "080810", True),
    ("HSCode", "0808100000", True),
    ("HSCode", "12", False),
    ("HSCode", "08081000001", False),
    ("HSCode", "0808.10", False),
    ("ProcedureType", "TR", True),
    ("ProcedureType", "XX", False),
    ("LocalReferenceNumber", "L" * 35, True),
    ("LocalReferenceNumber", "L" * 36, False),
    ("CustomsOffice", "baku", False),
    ("TaxId", "123456789", False),
    ("TaxId", "12345678901", False),
    ("Country", "aze", False),
    ("Country", "az", False),
    ("InvoiceCurrency", "US", False),
    ("TotalInvoiceAmount", "0", True),
    ("TotalInvoiceAmount", "1.5", True),
    ("TotalInvoiceAmount", "1.505", False),
    ("TotalInvoiceAmount", "-1.00", False),
    ("TotalInvoiceAmount", "1e3", False),
    ("SequenceNumber", "999", True),
    ("SequenceNumber", "0", False),
    ("SequenceNumber", "1000", False),
    ("GrossMassKg", "0.001", True),
    ("GrossMassKg", "0", False),
    ("GrossMassKg", "1.0005", False),
    ("NetMassKg", "-5", False),
    ("Description", "", False),
    ("Description", "d" * 512, True),
    ("Description", "d" * 513, False),
    ("Mode", "SEA", True),
    ("Mode", "ROAD ", True),     # identifiers and codes are xs:token-derived: whitespace collapses
    ("Mode", "BUS", False),
])
def test_declaration_field_rules(local: str, value: str, ok: bool) -> None:
    doc = declaration()
    first(doc, local, DECL).text = value
    assert is_valid(doc) is ok


def test_declaration_elements_are_in_sequence_order() -> None:
    doc = declaration()
    decl = body_of(doc)
    lrn = decl.find(f"{{{DECL}}}LocalReferenceNumber")
    decl.remove(lrn)
    decl.insert(0, lrn)
    assert not is_valid(doc)


def test_documents_and_taxes_are_bounded_at_99() -> None:
    for count, ok in ((99, True), (100, False)):
        doc = declaration()
        item = first(doc, "GoodsItem", DECL)
        for n in range(count):
            item.append(parse(f'<Document xmlns="{DECL}"><Type>LICENCE</Type>'
                              f"<Number>LIC-{n}</Number></Document>"))
        assert is_valid(doc) is ok, count
    for count, ok in ((99, True), (100, False)):
        doc = declaration()
        decl = body_of(doc)
        for tax in decl.findall(f"{{{DECL}}}Tax"):
            decl.remove(tax)
        for _ in range(count):
            decl.append(parse(f'<Tax xmlns="{DECL}"><Type>VAT</Type><Amount>1.00</Amount>'
                              "<Currency>AZN</Currency></Tax>"))
        assert is_valid(doc) is ok, count


def test_elements_must_be_in_their_namespace() -> None:
    doc = declaration()
    first(doc, "HSCode", DECL).tag = "HSCode"   # unqualified
    assert not is_valid(doc)


def test_control_decision() -> None:
    body = (f'<ControlDecision xmlns="{DECL}"><DeclarationNumber>AZ-DEC-2026-0000042'
            "</DeclarationNumber><Decision>{d}</Decision><Officer>SCC-OFF1</Officer>{note}"
            "</ControlDecision>")
    assert is_valid(envelope(body.format(d="RELEASED", note="")))
    assert is_valid(envelope(body.format(d="REJECTED", note="<Note>n</Note>")))
    assert not is_valid(envelope(body.format(d="GREEN", note="")))
    assert not is_valid(envelope(body.format(d="RELEASED", note="<Note></Note>")))


# --------------------------------------------------------------------------------------------
# ElectronicCertificate


@pytest.mark.parametrize("value, ok", [
    ("2026-12-31", True),
    ("2026-12-31Z", False),
    ("2026-12-31+04:00", False),
    ("2026-12-31T00:00:00Z", False),
    ("2026-02-30", False),
])
def test_valid_until_is_a_date_without_time_zone(value: str, ok: bool) -> None:
    doc = certificate()
    first(doc, "ValidUntil", CERT).text = value
    assert is_valid(doc) is ok


def test_issued_at_needs_a_time_zone() -> None:
    doc = certificate()
    first(doc, "IssuedAt", CERT).text = "2026-12-01T09:00:00"
    assert not is_valid(doc)


def test_certificate_type_is_one_of_three() -> None:
    doc = certificate()
    first(doc, "CertificateType", CERT).text = "TRANSPORT_PERMIT"
    assert not is_valid(doc)


SIGNATURE = (f'<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><anything/></ds:SignedInfo>'
             "<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>")


def test_certificate_may_end_with_one_enveloped_signature() -> None:
    doc = certificate()
    body_of(doc).append(parse(SIGNATURE))
    assert is_valid(doc), schema().error_log.last_error
    body_of(doc).append(parse(SIGNATURE))
    assert not is_valid(doc)


def test_signature_must_come_last() -> None:
    doc = certificate()
    body_of(doc).insert(0, parse(SIGNATURE))
    assert not is_valid(doc)


def test_only_a_signature_may_follow_the_goods() -> None:
    doc = certificate()
    body_of(doc).append(parse('<x:Extra xmlns:x="urn:example:1"/>'))
    assert not is_valid(doc)


def test_certificate_id_attribute_is_an_optional_xml_id() -> None:
    doc = certificate()
    cert = body_of(doc)
    assert cert.get("Id") == "cert-PHY-2026-0001" and is_valid(doc)
    cert.set("Id", "1-not-an-ncname")
    assert not is_valid(doc)
    del cert.attrib["Id"]
    assert is_valid(doc)


def test_certificate_goods_are_one_to_99() -> None:
    goods = "<Goods><HSCode>080810</HSCode><Description>Apples</Description></Goods>"
    head = (f'<ElectronicCertificate xmlns="{CERT}"><CertificateNumber>PHY-1</CertificateNumber>'
            "<CertificateType>PHYTOSANITARY</CertificateType>"
            "<IssuedAt>2026-12-01T09:00:00Z</IssuedAt><ValidUntil>2026-12-31</ValidUntil>"
            "<ConsigneeTaxId>1234567890</ConsigneeTaxId><OriginCountry>GE</OriginCountry>")
    for n, ok in ((0, False), (1, True), (99, True), (100, False)):
        assert is_valid(envelope(head + goods * n + "</ElectronicCertificate>")) is ok, n


def test_certificate_revocation() -> None:
    body = (f'<CertificateRevocation xmlns="{CERT}"><CertificateNumber>{{n}}</CertificateNumber>'
            "<Reason>{r}</Reason></CertificateRevocation>")
    assert is_valid(envelope(body.format(n="PHY-2026-0001", r="Withdrawn")))
    assert not is_valid(envelope(body.format(n="P" * 36, r="Withdrawn")))
    assert not is_valid(envelope(body.format(n="PHY-2026-0001", r="")))


# --------------------------------------------------------------------------------------------
# transport, enforcement


def test_pre_arrival_rules() -> None:
    doc = example("09-pre-arrival.BRK-0001.xml")
    assert is_valid(doc)
    for local, value in (("VehicleRegistration", "V" * 17), ("Direction", "IN"),
                         ("DriverDocument", "D" * 36), ("ExpectedAt", "2026-12-04T08:00:00")):
        bad = copy.deepcopy(doc)
        first(bad, local, TRANSPORT).text = value
        assert not is_valid(bad), local


def test_declaration_numbers_on_a_vehicle_are_bounded_at_99() -> None:
    for count, ok in ((99, True), (100, False)):
        doc = example("10-border-crossing.BCP-0001.xml")
        for n in range(count):
            body_of(doc).append(parse(f'<DeclarationNumber xmlns="{TRANSPORT}">'
                                      f"AZ-DEC-2026-{n:07d}</DeclarationNumber>"))
        assert is_valid(doc) is ok, count


def test_offense_type_is_enumerated() -> None:
    doc = example("11-offense-report.BCP-0001.xml")
    first(doc, "OffenseType", ENFORCEMENT).text = "SPEEDING"
    assert not is_valid(doc)


# --------------------------------------------------------------------------------------------
# status


def test_status_request_is_a_reference_or_a_local_reference_number_not_both() -> None:
    ref = "<Reference>AZ-DEC-2026-0000042</Reference>"
    lrn = "<LocalReferenceNumber>BRK-2026-IM-0001</LocalReferenceNumber>"
    for content, ok in ((ref, True), (lrn, True), (ref + lrn, False), ("", False),
                        ("<Reference>" + "R" * 65 + "</Reference>", False)):
        assert is_valid(envelope(f'<StatusRequest xmlns="{STATUS}">{content}</StatusRequest>')) \
            is ok, content


@pytest.mark.parametrize("content, ok", [
    ("", True),
    ("<AckUpTo>18446744073709551615</AckUpTo>", True),
    ("<AckUpTo>-1</AckUpTo>", False),
    ("<MaxMessages>500</MaxMessages>", True),
    ("<MaxMessages>501</MaxMessages>", False),
    ("<MaxMessages>0</MaxMessages>", False),
    ("<MaxMessages>10</MaxMessages><AckUpTo>5</AckUpTo>", False),
])
def test_pull_request(content: str, ok: bool) -> None:
    assert is_valid(envelope(f'<PullRequest xmlns="{STATUS}">{content}</PullRequest>')) is ok


NOTIFICATION_FIELDS = ("<Seq>{seq}</Seq><At>2026-12-03T10:15:01Z</At>"
                       "<Reference>AZ-DEC-2026-0000042</Reference><Kind>DECLARATION</Kind>"
                       "<Status>RELEASED</Status>")


def test_status_response_pull_response_and_notification() -> None:
    response = (f'<StatusResponse xmlns="{STATUS}"><Reference>AZ-DEC-2026-0000042</Reference>'
                "<Kind>DECLARATION</Kind><Status>RELEASED</Status>"
                "<LastChangedAt>2026-12-03T10:15:01Z</LastChangedAt>"
                "<Event><At>2026-12-03T10:15:00Z</At><Status>REGISTERED</Status></Event>"
                "<Event><At>2026-12-03T10:15:01Z</At><Status>RELEASED</Status>"
                "<Note>Green channel</Note></Event></StatusResponse>")
    assert is_valid(reply_envelope(response, "StatusResponse")), schema().error_log.last_error
    notification = NOTIFICATION_FIELDS.format(seq=7)
    assert is_valid(reply_envelope(
        f'<StatusNotification xmlns="{STATUS}">{notification}<Note>n</Note></StatusNotification>',
        "StatusNotification"))
    assert not is_valid(reply_envelope(
        f'<StatusNotification xmlns="{STATUS}"><Seq>-1</Seq></StatusNotification>',
        "StatusNotification"))
    pulled = "".join(f"<Notification>{NOTIFICATION_FIELDS.format(seq=n)}</Notification>"
                     for n in range(1, 3))
    assert is_valid(reply_envelope(
        f'<PullResponse xmlns="{STATUS}">{pulled}<More>false</More></PullResponse>',
        "PullResponse"))
    assert is_valid(reply_envelope(
        f'<PullResponse xmlns="{STATUS}"><More>true</More></PullResponse>', "PullResponse"))


def test_pull_response_holds_at_most_500_notifications() -> None:
    one = f"<Notification>{NOTIFICATION_FIELDS.format(seq=1)}</Notification>"
    for n, ok in ((500, True), (501, False)):
        body = f'<PullResponse xmlns="{STATUS}">{one * n}<More>true</More></PullResponse>'
        assert is_valid(reply_envelope(body, "PullResponse")) is ok, n


def test_status_kind_is_enumerated() -> None:
    fields = NOTIFICATION_FIELDS.format(seq=1)
    body = f'<StatusNotification xmlns="{STATUS}">{fields}</StatusNotification>'
    assert not is_valid(reply_envelope(body.replace("DECLARATION", "PARCEL"),
                                       "StatusNotification"))


# --------------------------------------------------------------------------------------------
# reports


FINANCIAL_ROW = ("<Row><CustomsOffice>BAKU-MAIN</CustomsOffice><TaxType>VAT</TaxType>"
                 "<Declarations>12</Declarations><Amount>120345.60</Amount></Row>")
FX_ROW = ("<Row><Currency>USD</Currency><Declarations>3</Declarations>"
          "<InvoiceAmount>66000.00</InvoiceAmount></Row>")
TRAFFIC_ROW = ("<Row><BorderCrossingPoint>RED-BRIDGE</BorderCrossingPoint><Direction>ENTRY"
               "</Direction><Vehicles>40</Vehicles><Announced>31</Announced></Row>")


def report_response(report_type: str, rows: str) -> str:
    return reply_envelope(
        f'<ReportResponse xmlns="{REPORT}"><ReportType>{report_type}</ReportType>'
        f"<From>2026-12-01</From><To>2026-12-31</To>{rows}</ReportResponse>", "ReportResponse")


@pytest.mark.parametrize("report_type, row", [
    ("FINANCIAL", FINANCIAL_ROW), ("FOREIGN_EXCHANGE", FX_ROW), ("TRAFFIC", TRAFFIC_ROW)])
def test_report_rows_of_each_shape(report_type: str, row: str) -> None:
    assert is_valid(report_response(report_type, row * 3)), schema().error_log.last_error
    assert is_valid(report_response(report_type, ""))


def test_report_row_columns_are_fixed() -> None:
    mixed = ("<Row><CustomsOffice>BAKU-MAIN</CustomsOffice><Currency>USD</Currency>"
             "<Declarations>1</Declarations><Amount>1.00</Amount></Row>")
    reordered = ("<Row><TaxType>VAT</TaxType><CustomsOffice>BAKU-MAIN</CustomsOffice>"
                 "<Declarations>1</Declarations><Amount>1.00</Amount></Row>")
    assert not is_valid(report_response("FINANCIAL", mixed))
    assert not is_valid(report_response("FINANCIAL", reordered))
    assert not is_valid(report_response("FINANCIAL", "<Row/>"))


def test_report_rows_are_bounded_at_10000() -> None:
    assert is_valid(report_response("TRAFFIC", TRAFFIC_ROW * 10000))
    assert not is_valid(report_response("TRAFFIC", TRAFFIC_ROW * 10001))


@pytest.mark.parametrize("content, ok", [
    ("<ReportType>TRAFFIC</ReportType><From>2026-12-01</From><To>2026-12-31</To>", True),
    ("<ReportType>TRAFFIC</ReportType><From>2026-12-01Z</From><To>2026-12-31</To>", False),
    ("<ReportType>CUSTOMS</ReportType><From>2026-12-01</From><To>2026-12-31</To>", False),
    ("<ReportType>TRAFFIC</ReportType><To>2026-12-31</To><From>2026-12-01</From>", False),
])
def test_report_request(content: str, ok: bool) -> None:
    assert is_valid(envelope(f'<ReportRequest xmlns="{REPORT}">{content}</ReportRequest>')) is ok
