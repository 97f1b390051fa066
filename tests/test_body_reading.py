"""Reading bodies: exact amounts, each body decoded once, and that work done on the event
loop's side (in `Pipeline.prepare`) rather than inside the writer's transaction."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gateway.client import parse_reply
from gateway.participants import load_participants
from gateway.pipeline import Pipeline
from handlers import registry as handler_registry
from handlers.rules import PermitRule, Rules
from protocol.bodies.common import grams, minor_units, scaled
from protocol.bodies.declaration import read_declaration
from protocol.envelope import Message
from protocol.schemas import SchemaSet
from protocol.xml import parse_document
from tests.builders import declaration, goods_item
from tests.conftest import PARTICIPANTS_FILE
from tests.test_examples import VALID, sender_of


def _reference(text: str, digits: int) -> int:
    return int((Decimal(text) * 10 ** digits).to_integral_value())


@given(st.decimals(min_value=0, max_value=10 ** 15, places=3, allow_nan=False,
                   allow_infinity=False), st.sampled_from([2, 3]))
def test_scaled_amounts_equal_decimal_arithmetic(value: Decimal, digits: int) -> None:
    for text in (str(value), f"{value:f}", f"{value:.1f}", f"+{value:f}", f"00{value:f}"):
        assert scaled(text, digits) == _reference(text, digits), text


@pytest.mark.parametrize("text, cents", [
    ("0", 0), ("1", 100), ("1.5", 150), ("1.55", 155), ("1.", 100), (".5", 50),
    ("0012.30", 1230), ("-1.5", -150), ("1.555", 156), ("1.545", 154), ("123456789012.99",
                                                                         12345678901299),
])
def test_minor_units_of_every_decimal_spelling(text: str, cents: int) -> None:
    assert minor_units(text) == cents


def test_grams_keep_three_fraction_digits() -> None:
    assert grams("10.5") == 10_500
    assert grams("0.001") == 1
    assert grams("1450") == 1_450_000


def _body(payload: bytes) -> etree._Element:
    root = parse_document(payload)
    return root[1][0]


def test_a_declaration_reads_in_document_order_with_its_documents_and_taxes() -> None:
    body = _body(declaration(
        lrn="LRN-READ-1", tax_id="1234567890", total="2500.50",
        items=[goods_item(1, "080810", documents=(("PHYTOSANITARY", "PH-1"),),
                          amount="1000.25"),
               goods_item(2, "847130", documents=(("LICENCE", "L-1"), ("LICENCE", "L-2")))],
        taxes=(("DUTY", "10.00", "AZN"), ("VAT", "180.5", "AZN"))))
    decl = read_declaration(body)
    assert (decl.lrn, decl.consignee_tax_id, decl.total_invoice_amount) == (
        "LRN-READ-1", "1234567890", 250_050)
    assert [(i.seq, i.hs_code, i.invoice_amount, i.gross_mass_g) for i in decl.items] == [
        (1, "080810", 100_025, 10_500), (2, "847130", 100_000, 10_500)]
    assert [[(d.doc_type, d.number) for d in i.documents] for i in decl.items] == [
        [("PHYTOSANITARY", "PH-1")], [("LICENCE", "L-1"), ("LICENCE", "L-2")]]
    assert [(t.tax_type, t.amount, t.currency) for t in decl.taxes] == [
        ("DUTY", 1000, "AZN"), ("VAT", 18050, "AZN")]
    assert (decl.consignor_name, decl.transport_mode, decl.border_crossing_point) == (
        "Seller Ltd", "ROAD", "RED-BRIDGE")


class _CountingReader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, body: etree._Element) -> str:
        self.calls += 1
        return str(body.tag)


def test_a_message_decodes_its_body_once_per_reader_and_again_for_a_new_body() -> None:
    root = parse_document(declaration())
    message = Message(header=None, body=root[1][0], payload=b"")  # type: ignore[arg-type]
    reader = _CountingReader()
    assert message.read(reader) == message.read(reader)
    assert reader.calls == 1
    digest = message.body_digest
    message.body = etree.fromstring(b'<Other xmlns="urn:x"/>')  # e.g. a translated body
    assert message.read(reader) == "{urn:x}Other"
    assert reader.calls == 2
    assert message.body_digest != digest


def test_prepare_decodes_a_declaration_before_the_writer_sees_it(
        pki_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = _CountingReader()
    monkeypatch.setitem(handler_registry.EARLY_READERS, "CustomsDeclaration", reader)
    registry = load_participants(PARTICIPANTS_FILE, dev_cert_dir=pki_dir)
    pipeline = Pipeline(SchemaSet(), registry)
    broker = registry.get("BRK-0001")
    assert broker is not None
    prepared = pipeline.prepare(declaration(), broker)
    assert reader.calls == 1
    assert prepared.message.read(reader) == "{urn:uams:declaration:1}CustomsDeclaration"
    assert reader.calls == 1


async def test_the_writer_decodes_no_body_every_type_is_read_on_the_event_loop(
        connect: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer holds the store's write lock: the CPU work of decoding a body is done
    by `Pipeline.prepare` beforehand, for every message type."""
    decoded_by_writer: list[tuple[str, str]] = []
    handled: set[str] = set()
    original = Message.read

    def read(self: Message, reader: Any) -> Any:
        cached = self._decoded
        found = cached is not None and cached[0] is self.body and cached[1] is reader
        if threading.current_thread().name == "uams-writer":
            handled.add(self.header.message_type)
            if not found:
                decoded_by_writer.append((self.header.message_type, reader.__name__))
        return original(self, reader)

    monkeypatch.setattr(Message, "read", read)
    for path in VALID:
        client = await connect(sender_of(path))
        reply = parse_reply(await client.request(path.read_bytes()))
        assert reply.message_type != "Rejection", (path.name, reply.text)
    assert handled == set(handler_registry.HANDLERS), "the examples cover every type"
    assert decoded_by_writer == []


def test_permit_requirements_are_remembered_per_hs_code_and_stay_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import handlers.rules as rules_module

    monkeypatch.setattr(rules_module, "_REQUIRED_CACHE_MAX", 3)
    rules = Rules(permits=(PermitRule("PLANTS", ("0808",), ("PHYTOSANITARY",)),))
    first = rules.required("080810")
    assert rules.required("080810") is first
    assert [r.cert_type for r in first] == ["PHYTOSANITARY"]
    for code in ("847130", "851712", "870323", "610910"):
        assert rules.required(code) == ()
    assert len(rules._required) <= 3
    assert [r.cert_type for r in rules.required("080810")] == ["PHYTOSANITARY"]
