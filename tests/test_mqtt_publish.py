"""Status notifications over the machine's own Mosquitto (127.0.0.1:1883, started by CI):
a declaration through the real gateway reaches its declarant's subscriber as a
StatusNotification envelope that validates against the UAMS schemas."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from lxml import etree

from adapters.mqtt import Subscription, parse_broker_url
from gateway.app import start_gateway
from gateway.client import UamsClient, parse_reply
from protocol import namespaces as ns
from protocol.schemas import SchemaSet
from tests.builders import declaration, status_request
from tests.conftest import client_context, make_config
from tests.test_mqtt_link import MACHINE_BROKER

pytestmark = pytest.mark.mqtt

E = f"{{{ns.ENVELOPE}}}"
S = f"{{{ns.STATUS}}}"


def notification_fields(payload: bytes) -> dict[str, str]:
    """Header and StatusNotification fields of a received payload (validated first)."""
    root = etree.fromstring(payload)
    SchemaSet().validate(root)
    header = root.find(E + "Header")
    body = root.find(f"{E}Body/{S}StatusNotification")
    assert header is not None and body is not None
    fields = {etree.QName(el).localname: el.text or "" for el in header}
    fields.update({etree.QName(el).localname: el.text or "" for el in body})
    return fields


async def test_declarant_receives_a_valid_status_notification(pki_dir: Path,
                                                              tmp_path: Path) -> None:
    # A gateway id of this test run only: other runs may publish on the same broker and
    # topics, and every gateway's first declaration has the same number.
    gateway_id = f"T-{secrets.token_hex(6).upper()}"
    config = make_config(pki_dir, tmp_path, MQTT_URL=MACHINE_BROKER, GATEWAY_ID=gateway_id,
                         MQTT_POLL_INTERVAL_SECONDS="0.2")
    address = parse_broker_url(MACHINE_BROKER)
    topic = "uams/v1/BRK-0001/status"
    async with Subscription(address, [topic], client_id=f"t-{gateway_id}") as sub:
        assert sub.granted == [True]
        gateway = await start_gateway(config)
        try:
            assert gateway.tls_port is not None
            async with await UamsClient.connect(
                    "127.0.0.1", gateway.tls_port, client_context(pki_dir, "BRK-0001"),
                    server_hostname="localhost") as client:
                receipt = parse_reply(await client.request(declaration(tax_id="5555555555")))
                assert receipt.is_receipt, receipt.text
                history = parse_reply(await client.request(
                    status_request(sender="BRK-0001", reference=receipt.reference)))
            statuses = [e.findtext(S + "Status") for e in history.body.findall(S + "Event")]
            received: list[dict[str, str]] = []
            while len(received) < len(statuses):
                message = await sub.receive(timeout=10)
                assert message.topic == topic
                fields = notification_fields(message.payload)
                if fields["SenderId"] == gateway_id:
                    received.append(fields)
        finally:
            await gateway.stop()
    assert [f["Status"] for f in received] == statuses
    assert [int(f["Seq"]) for f in received] == list(range(1, len(statuses) + 1))
    first = received[0]
    assert first["MessageType"] == "StatusNotification"
    assert first["RecipientId"] == "BRK-0001"
    assert first["Reference"] == receipt.reference
    assert first["Kind"] == "DECLARATION"
    assert first["MessageId"] == "N.BRK-0001.1"
    assert gateway.publisher is not None
    assert gateway.publisher.state.published >= len(statuses)
