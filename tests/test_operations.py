"""Operational features of the gateway: the plaintext development listener, the rate limit,
the canonical log line, the offline validator."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from gateway.app import start_gateway
from gateway.client import UamsClient, parse_reply
from gateway.config import ConfigError
from gateway.ratelimit import RateLimiter
from gateway.validate import run as validate_files
from tests.builders import declaration
from tests.conftest import ROOT, make_config


async def test_plaintext_listener_serves_the_configured_participant(pki_dir: Path,
                                                                     tmp_path: Path) -> None:
    config = make_config(pki_dir, tmp_path, PLAINTEXT_ENABLED="true", PLAINTEXT_PORT="0",
                         PLAINTEXT_PARTICIPANT="BRK-0001")
    gateway = await start_gateway(config)
    try:
        assert gateway.plaintext_port is not None
        client = await UamsClient.connect("127.0.0.1", gateway.plaintext_port)
        try:
            ok = parse_reply(await client.request(declaration(sender="BRK-0001")))
            other = parse_reply(await client.request(declaration(sender="TRD-0001")))
        finally:
            await client.close()
    finally:
        await gateway.stop()
    assert ok.message_type == "Receipt"
    assert other.code == "SENDER_MISMATCH", "the configured participant, never the message"


def test_plaintext_listener_must_be_loopback(pki_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="loopback"):
        make_config(pki_dir, tmp_path, PLAINTEXT_ENABLED="true", PLAINTEXT_HOST="0.0.0.0",
                    PLAINTEXT_PARTICIPANT="BRK-0001")


async def test_plaintext_participant_must_be_registered(pki_dir: Path, tmp_path: Path) -> None:
    config = make_config(pki_dir, tmp_path, PLAINTEXT_ENABLED="true",
                         PLAINTEXT_PARTICIPANT="NOBODY-01")
    with pytest.raises(ConfigError, match="NOBODY-01"):
        await start_gateway(config)


async def test_participant_over_its_rate_is_rate_limited(pki_dir: Path, tmp_path: Path) -> None:
    config = make_config(pki_dir, tmp_path, SERVER_RATE_LIMIT_PER_SECOND="0.001",
                         SERVER_RATE_LIMIT_BURST="3")
    gateway = await start_gateway(config)
    from tests.conftest import client_context

    try:
        client = await UamsClient.connect("127.0.0.1", gateway.tls_port or 0,
                                          client_context(pki_dir, "BRK-0001"),
                                          server_hostname="localhost")
        try:
            replies = [parse_reply(await client.request(declaration())) for _ in range(5)]
            await client.heartbeat()  # heartbeats are not counted
        finally:
            await client.close()
    finally:
        await gateway.stop()
    assert [r.message_type for r in replies[:3]] == ["Receipt"] * 3
    assert [(r.code, r.retryable) for r in replies[3:]] == [("RATE_LIMITED", True)] * 2


def test_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(per_second=2.0, burst=2, clock=lambda: now[0])
    assert [limiter.allow("A") for _ in range(3)] == [True, True, False]
    assert limiter.allow("B"), "buckets are per participant"
    now[0] = 0.5
    assert limiter.allow("A") and not limiter.allow("A")
    assert RateLimiter(per_second=0, burst=1).allow("A"), "0 means no limit"


async def test_one_canonical_log_line_per_message(connect) -> None:
    client = await connect("BRK-0001")
    with capture_logs() as logs:
        await client.request(declaration(mid="logged-1"))
        await client.request(b"<not-xml")
    lines = [e for e in logs if e["event"] == "message"]
    assert len(lines) == 2
    accepted, rejected = lines
    assert accepted["participant"] == "BRK-0001" and accepted["message_id"] == "logged-1"
    assert accepted["type"] == "CustomsDeclaration" and accepted["outcome"] == "accepted"
    assert accepted["code"] == "RELEASED" and accepted["latency_ms"] >= 0
    assert accepted["conn"].startswith("c")
    assert rejected["outcome"] == "rejected" and rejected["code"] == "MALFORMED_XML"


def test_validate_reports_line_and_path(capsys: pytest.CaptureFixture[str]) -> None:
    invalid = ROOT / "examples" / "invalid" / "SCHEMA_INVALID.BRK-0001.xml"
    valid = ROOT / "examples" / "valid" / "05-declaration-machinery.BRK-0001.xml"
    assert validate_files([valid]) == 0
    assert validate_files([valid, invalid]) == 1
    out = capsys.readouterr().out
    assert "SCHEMA_INVALID" in out
    assert "line " in out and "/Envelope/Body/CustomsDeclaration/" in out
