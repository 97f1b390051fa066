"""The `[mqtt]` configuration section and the StatusNotification payload it leads to."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from lxml import etree

from gateway.app import start_gateway
from gateway.client import UamsClient, parse_reply
from gateway.config import ConfigError, load_config
from gateway.publisher import notification_envelope, topic_of
from protocol.answers import NotificationView
from protocol.schemas import SchemaSet
from tests.builders import declaration
from tests.conftest import client_context, make_config
from tests.test_mqtt_link import free_port


def mqtt(**env: str):  # type: ignore[no-untyped-def]
    return load_config(None, environ={f"UAMS_MQTT_{k.upper()}": v for k, v in env.items()}).mqtt


def test_off_by_default() -> None:
    settings = mqtt()
    assert settings.url == "" and settings.ca_file is None
    assert settings.batch_size >= 1 and settings.poll_interval_seconds > 0


def test_tls_broker_settings(tmp_path: Path) -> None:
    settings = mqtt(url="mqtts://broker.example:8883", ca_file=str(tmp_path / "ca.crt"),
                    cert_file=str(tmp_path / "SCC.crt"), key_file=str(tmp_path / "SCC.key"),
                    keepalive_seconds="20", batch_size="50", backoff_max_seconds="5")
    assert settings.ca_file == tmp_path / "ca.crt"
    assert (settings.keepalive_seconds, settings.batch_size) == (20, 50)


@pytest.mark.parametrize(("env", "names"), [
    ({"url": "http://broker"}, "url"),
    ({"url": "mqtt://"}, "url"),
    ({"url": "mqtts://broker:8883"}, "ca_file"),
    ({"cert_file": "a.crt"}, "key_file"),
    ({"batch_size": "0"}, "batch_size"),
    ({"keepalive_seconds": "1"}, "keepalive_seconds"),
    ({"poll_interval_seconds": "0"}, "poll_interval_seconds"),
    ({"client_id_prefix": ""}, "client_id_prefix"),
])
def test_bad_settings_are_named(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        mqtt(**env)


def test_url_with_credentials_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as error:
        mqtt(url="ftp://user:secret@broker")
    assert "secret" not in str(error.value)


def test_notification_payload_validates_and_escapes() -> None:
    view = NotificationView(7, "2026-12-03T10:15:00.123456Z", "AZ-DEC-2026-0000042",
                            "DECLARATION", "UNDER_CONTROL", note="x < y & \"z\"")
    payload = notification_envelope("BRK-0001", view, gateway_id="SCC")
    root = etree.fromstring(payload)
    SchemaSet().validate(root)
    assert root.findtext(".//{urn:uams:status:1}Note") == 'x < y & "z"'
    assert root.findtext(".//{urn:uams:envelope:1}MessageId") == "N.BRK-0001.7"
    assert topic_of("BRK-0001") == "uams/v1/BRK-0001/status"


async def test_an_unreachable_broker_does_not_hold_up_the_gateway(pki_dir: Path,
                                                                  tmp_path: Path) -> None:
    """Receipts as usual, notifications wait in the outbox, and the gateway stops promptly."""
    config = make_config(pki_dir, tmp_path, MQTT_URL=f"mqtt://127.0.0.1:{free_port()}",
                         MQTT_BACKOFF_MAX_SECONDS="0.3", MQTT_POLL_INTERVAL_SECONDS="0.1")
    gateway = await start_gateway(config)
    publisher = gateway.publisher
    assert publisher is not None and gateway.tls_port is not None
    try:
        async with await UamsClient.connect("127.0.0.1", gateway.tls_port,
                                            client_context(pki_dir, "BRK-0001"),
                                            server_hostname="localhost") as client:
            assert parse_reply(await client.request(declaration())).is_receipt
        async with asyncio.timeout(5):
            while publisher.state.last_error is None:
                await asyncio.sleep(0.02)
        assert not publisher.state.connected and publisher.state.published == 0
    finally:
        started = time.monotonic()
        await gateway.stop()
        assert time.monotonic() - started < 3
