"""The gateway over real mutual TLS: a declaration is received, numbered and queryable."""

from __future__ import annotations

from gateway.client import parse_reply
from tests.builders import declaration, status_request


async def test_declaration_gets_receipt_then_status(connect) -> None:
    client = await connect("BRK-0001")
    reply = parse_reply(await client.request(declaration(lrn="SMOKE-1")))
    assert reply.message_type == "Receipt"
    assert reply.status == "RELEASED"  # no certificate needed, GREEN channel
    assert reply.reference is not None and reply.reference.startswith("AZ-DEC-")
    status = parse_reply(await client.request(status_request(sender="BRK-0001", lrn="SMOKE-1")))
    assert status.message_type == "StatusResponse"
