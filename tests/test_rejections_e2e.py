"""Every rejection the core produces, caused by a real request over mutual TLS (PROTOCOL §4).

Each reply is checked the same way: it validates against the reply schema, its
Code, fixed Reason and Retryable flag are those of the error table, its
RefMessageId and CorrelationId carry the request's MessageId exactly when that
could be read, it is addressed to the requester, and it carries no file path,
stack trace or parser text of the server.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from lxml import etree

from gateway.app import Gateway
from gateway.client import ConnectionClosed, Reply, UamsClient, parse_reply
from protocol import namespaces as ns
from protocol.errors import REASONS, RETRYABLE, ErrorCode
from protocol.schemas import SchemaSet
from protocol.xml import parse_document
from tests.builders import (
    declaration,
    declaration_body,
    envelope,
    goods_item,
    message_id,
    status_request,
)
from tests.conftest import ROOT, client_context, make_config
from tests.test_server_limits import open_raw

Connect = Callable[[str], Awaitable[UamsClient]]

_SCHEMAS: SchemaSet | None = None

#: What no reply may contain: server paths, stack traces, exception and parser wording.
LEAKS = [
    str(ROOT), "/tmp", "/etc/", "/usr/", ".py", "Traceback", "Exception", "Error:",
    "lxml", "libxml", "XMLSyntaxError", "line 1, column", "(<string>", "Errno", "sqlite",
    "SELECT", "INSERT",
]


def schemas() -> SchemaSet:
    global _SCHEMAS
    if _SCHEMAS is None:
        _SCHEMAS = SchemaSet()
    return _SCHEMAS


def check_rejection(payload: bytes, code: str, *, request_id: str | None,
                    recipient: str | None = "BRK-0001") -> Reply:
    """The checks every Rejection must pass; returns the parsed reply."""
    root = parse_document(payload)
    schemas().validate(root)  # the reply schema, through the envelope
    header = {etree.QName(child).localname: child.text for child in root[0]}
    reply = parse_reply(payload)
    assert reply.message_type == "Rejection"
    assert reply.code == code
    assert reply.reason == REASONS[ErrorCode(code)]
    assert reply.retryable is (ErrorCode(code) in RETRYABLE)
    assert header["SenderId"] == "SCC"
    assert header.get("RecipientId") == recipient
    assert header["MessageId"] and header["MessageId"] != request_id
    ref = reply.body.findtext(f"{{{ns.REPLY}}}RefMessageId")
    assert ref == request_id
    assert reply.correlation_id == request_id
    text = payload.decode()
    for leak in LEAKS:
        assert leak not in text, f"the reply contains {leak!r}"
    return reply


async def rejected(client: UamsClient, request: bytes, code: str, *, request_id: str | None,
                   recipient: str = "BRK-0001") -> Reply:
    return check_rejection(await client.request(request), code, request_id=request_id,
                           recipient=recipient)


# -- documents that cannot be read -------------------------------------------------------------


async def test_malformed_xml(connect: Connect) -> None:
    client = await connect("BRK-0001")
    reply = await rejected(client, declaration(mid="mal-1")[:-12], "MALFORMED_XML",
                           request_id=None)
    assert all(d.path is None for d in reply.details)


async def test_not_utf8_is_malformed(connect: Connect) -> None:
    client = await connect("BRK-0001")
    latin1 = declaration(mid="lat-1").replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    await rejected(client, latin1, "MALFORMED_XML", request_id=None)
    utf16 = declaration(mid="u16-1").decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    await rejected(client, utf16.encode("utf-16"), "MALFORMED_XML", request_id=None)


async def test_forbidden_xml(connect: Connect) -> None:
    client = await connect("BRK-0001")
    doctype = declaration(mid="fbd-1").replace(
        b"<Envelope", b'<!DOCTYPE Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]><Envelope')
    doctype = doctype.replace(b"Goods 1", b"Goods &x;")
    reply = await rejected(client, doctype, "FORBIDDEN_XML", request_id=None)
    assert reply.details == []
    pi = declaration(mid="fbd-2").replace(b"<Body>", b"<Body><?php system('id'); ?>")
    await rejected(client, pi, "FORBIDDEN_XML", request_id=None)


async def test_forbidden_comes_before_every_other_check(connect: Connect) -> None:
    """A DOCTYPE in a document that is also schema-invalid and from the wrong sender."""
    client = await connect("BRK-0001")
    request = (declaration(sender="TRD-0001", mid="fbd-3")
               .replace(b"<ProcedureType>IM<", b"<ProcedureType>ZZ<")
               .replace(b"<Envelope", b"<!DOCTYPE Envelope><Envelope", 1))
    await rejected(client, request, "FORBIDDEN_XML", request_id=None)


# -- envelope and body -------------------------------------------------------------------------


async def test_schema_invalid_names_line_and_path(connect: Connect) -> None:
    client = await connect("BRK-0001")
    request = declaration(mid="sch-1", items=[goods_item(1), goods_item(2, hs="84x")])
    request = request.replace(b"<GoodsItem>", b"\n<GoodsItem>")  # item 2 is on line 3
    reply = await rejected(client, request, "SCHEMA_INVALID", request_id="sch-1")
    assert reply.details
    detail = reply.details[0]
    assert detail.line == 3
    assert detail.path == "/Envelope/Body/CustomsDeclaration/GoodsItem[2]/HSCode"
    assert detail.text


async def test_schema_invalid_header(connect: Connect) -> None:
    client = await connect("BRK-0001")
    request = declaration(mid="sch-2").replace(b"<SentAt>2026-12-03T10:15:00Z",
                                               b"<SentAt>yesterday")
    reply = await rejected(client, request, "SCHEMA_INVALID", request_id="sch-2")
    assert any(d.path == "/Envelope/Header/SentAt" for d in reply.details)


async def test_schema_invalid_without_readable_message_id(connect: Connect) -> None:
    client = await connect("BRK-0001")
    request = declaration(mid="not a valid id!")
    await rejected(client, request, "SCHEMA_INVALID", request_id=None)


async def test_schema_invalid_details_are_capped_at_twenty(connect: Connect) -> None:
    client = await connect("BRK-0001")
    request = declaration(mid="sch-3", items=[goods_item(i, hs="1x") for i in range(1, 40)])
    reply = await rejected(client, request, "SCHEMA_INVALID", request_id="sch-3")
    assert len(reply.details) == 20


async def test_schema_invalid_detail_quotes_the_pattern_whole(connect: Connect) -> None:
    client = await connect("BRK-0001")
    request = declaration(mid="sch-4", items=[goods_item(1, hs="84x")])
    reply = await rejected(client, request, "SCHEMA_INVALID", request_id="sch-4")
    assert "[0-9]{6,10}" in reply.details[0].text


async def test_unknown_message_type_unregistered(connect: Connect) -> None:
    client = await connect("BRK-0001")
    request = envelope("CustomsDeclarationV2", '<CustomsDeclarationV2 xmlns="urn:x"/>',
                       sender="BRK-0001", mid="unk-1")
    await rejected(client, request, "UNKNOWN_MESSAGE_TYPE", request_id="unk-1")


async def test_unknown_message_type_body_does_not_match(connect: Connect) -> None:
    client = await connect("BRK-0001")
    body = '<StatusRequest xmlns="urn:uams:status:1"><Reference>X-1</Reference></StatusRequest>'
    request = envelope("CustomsDeclaration", body, sender="BRK-0001", mid="unk-2")
    await rejected(client, request, "UNKNOWN_MESSAGE_TYPE", request_id="unk-2")
    # the right element in the wrong namespace is not the registered body either
    wrong_ns = declaration(mid="unk-3").replace(b'xmlns="urn:uams:declaration:1"',
                                                b'xmlns="urn:uams:declaration:2"')
    await rejected(client, wrong_ns, "UNKNOWN_MESSAGE_TYPE", request_id="unk-3")


async def test_unknown_message_type_reply_type_sent_as_request(connect: Connect) -> None:
    client = await connect("BRK-0001")
    body = (f'<Receipt xmlns="{ns.REPLY}"><RefMessageId>x</RefMessageId>'
            "<ReceivedAt>2026-12-03T10:15:00Z</ReceivedAt><Status>RELEASED</Status>"
            "<Duplicate>false</Duplicate></Receipt>")
    request = envelope("Receipt", body, sender="BRK-0001", mid="unk-4")
    await rejected(client, request, "UNKNOWN_MESSAGE_TYPE", request_id="unk-4")


# -- who may send what --------------------------------------------------------------------------


async def test_sender_mismatch(connect: Connect) -> None:
    client = await connect("BRK-0001")
    request = declaration(sender="TRD-0001", mid="snd-1")
    await rejected(client, request, "SENDER_MISMATCH", request_id="snd-1")


async def test_not_authorized(connect: Connect) -> None:
    client = await connect("CAR-0001")
    request = declaration(sender="CAR-0001", mid="aut-1")
    await rejected(client, request, "NOT_AUTHORIZED", request_id="aut-1", recipient="CAR-0001")


# -- duplicates and business rules ------------------------------------------------------------


async def test_duplicate_conflict(connect: Connect) -> None:
    client = await connect("BRK-0001")
    first = parse_reply(await client.request(declaration(mid="dup-1", lrn="DUP-LRN-1")))
    assert first.message_type == "Receipt" and not first.duplicate
    same = parse_reply(await client.request(declaration(mid="dup-1", lrn="DUP-LRN-1")))
    assert (same.duplicate, same.reference) == (True, first.reference)
    await rejected(client, declaration(mid="dup-1", lrn="DUP-LRN-2"), "DUPLICATE_CONFLICT",
                   request_id="dup-1")


async def test_business_rule_lrn_reuse(connect: Connect) -> None:
    client = await connect("BRK-0001")
    assert parse_reply(await client.request(declaration(lrn="BR-LRN"))).message_type == "Receipt"
    reply = await rejected(client, declaration(mid="br-2", lrn="BR-LRN"), "BUSINESS_RULE",
                           request_id="br-2")
    assert [d.rule for d in reply.details] == ["LRN_UNIQUE"]
    assert reply.details[0].text


async def test_rejected_message_id_may_be_sent_again(connect: Connect) -> None:
    """Only accepted messages are remembered (PROTOCOL §4, Duplicates)."""
    client = await connect("BRK-0001")
    await rejected(client, declaration(mid="again-1").replace(b"<ProcedureType>IM<",
                                                              b"<ProcedureType>XX<"),
                   "SCHEMA_INVALID", request_id="again-1")
    reply = parse_reply(await client.request(declaration(mid="again-1")))
    assert reply.message_type == "Receipt" and not reply.duplicate


# -- NOT_FOUND ---------------------------------------------------------------------------------

_VARIABLE = re.compile(rb"<(MessageId|SentAt|CorrelationId|RefMessageId)>[^<]*</\1>")


def without_ids(payload: bytes) -> bytes:
    return _VARIABLE.sub(rb"<\1/>", payload)


async def test_not_found_for_unknown_reference(connect: Connect) -> None:
    client = await connect("BRK-0001")
    await rejected(client, status_request(sender="BRK-0001", reference="AZ-DEC-2026-9999999",
                                          mid="nf-1"), "NOT_FOUND", request_id="nf-1")
    await rejected(client, status_request(sender="BRK-0001", lrn="NO-SUCH-LRN", mid="nf-2"),
                   "NOT_FOUND", request_id="nf-2")


async def test_invisible_declaration_is_answered_exactly_like_a_missing_one(
        connect: Connect) -> None:
    broker = await connect("BRK-0001")
    trader = await connect("TRD-0001")  # tax id 1234567890
    other = parse_reply(await broker.request(declaration(tax_id="9999999999", lrn="NF-OTHER")))
    mine = parse_reply(await broker.request(declaration(tax_id="1234567890", lrn="NF-MINE")))
    assert other.reference and mine.reference
    # control: the trader sees the declaration of its own tax id
    visible = parse_reply(await trader.request(status_request(sender="TRD-0001",
                                                              reference=mine.reference)))
    assert visible.message_type == "StatusResponse"

    invisible = await trader.request(status_request(sender="TRD-0001", reference=other.reference,
                                                    mid="nf-invisible"))
    missing = await trader.request(status_request(sender="TRD-0001",
                                                  reference="AZ-DEC-2026-9999999",
                                                  mid="nf-missing"))
    check_rejection(invisible, "NOT_FOUND", request_id="nf-invisible", recipient="TRD-0001")
    check_rejection(missing, "NOT_FOUND", request_id="nf-missing", recipient="TRD-0001")
    assert without_ids(invisible) == without_ids(missing)
    assert other.reference.encode() not in invisible


# -- connection-level rejections ---------------------------------------------------------------


async def test_frame_too_large(gateway: Gateway, pki_dir: Path) -> None:
    assert gateway.tls_port is not None
    conn = await open_raw(gateway.tls_port, client_context(pki_dir, "BRK-0001"))
    try:
        conn.send_raw(struct.pack(">I", gateway.config.server.max_frame_bytes + 1))
        check_rejection(await conn.frame(), "FRAME_TOO_LARGE", request_id=None)
        assert await conn.closed_by_peer()
    finally:
        await conn.close()


async def test_too_many_errors(connect: Connect) -> None:
    client = await connect("BRK-0001")
    replies = [await client.request(b"<garbage") for _ in range(9)]
    for payload in replies:
        check_rejection(payload, "MALFORMED_XML", request_id=None)
    check_rejection(await client.request(b"<garbage"), "TOO_MANY_ERRORS", request_id=None)
    with pytest.raises(ConnectionClosed):
        await client.request(b"")
    assert client.closed


async def test_rate_limited_is_retryable(pki_dir: Path, tmp_path: Path) -> None:
    from gateway.app import start_gateway

    gw = await start_gateway(make_config(pki_dir, tmp_path, SERVER_RATE_LIMIT_PER_SECOND="0.001",
                                         SERVER_RATE_LIMIT_BURST="1"))
    try:
        assert gw.tls_port is not None
        client = await UamsClient.connect("127.0.0.1", gw.tls_port,
                                          client_context(pki_dir, "BRK-0001"),
                                          server_hostname="localhost")
        try:
            first = parse_reply(await client.request(declaration(mid="rl-1")))
            assert first.message_type == "Receipt"
            reply = check_rejection(await client.request(declaration(mid="rl-2")),
                                    "RATE_LIMITED", request_id=None)
            assert reply.retryable
        finally:
            await client.close()
    finally:
        await gw.stop()


# -- replies that are not rejections pass the same schema ------------------------------------


async def test_receipt_and_status_response_validate(connect: Connect) -> None:
    client = await connect("BRK-0001")
    mid = message_id("ok")
    receipt = await client.request(envelope("CustomsDeclaration",
                                            declaration_body(lrn="OK-LRN"),
                                            sender="BRK-0001", mid=mid))
    schemas().validate(parse_document(receipt))
    assert parse_reply(receipt).correlation_id == mid
    status = await client.request(status_request(sender="BRK-0001", lrn="OK-LRN"))
    schemas().validate(parse_document(status))
