"""`uams-gateway demo` against the in-process gateway: the whole day goes as the
contract says, and the demo notices when it does not."""

from __future__ import annotations

import io
import re
import socket
from pathlib import Path

from gateway.app import Gateway, start_gateway
from gateway.demo import EXIT_OK, EXIT_UNEXPECTED, EXIT_UNREACHABLE, play
from tests.conftest import PARTICIPANTS_FILE, make_config


async def test_a_day_at_the_border(gateway: Gateway, pki_dir: Path) -> None:
    assert gateway.tls_port is not None
    out = io.StringIO()
    status = await play("127.0.0.1", gateway.tls_port, pki_dir, out,
                        server_hostname="localhost")
    text = out.getvalue()
    assert status == EXIT_OK, text
    assert "UNEXPECTED" not in text
    assert re.search(r"All \d+ steps went as expected\.", text)
    for seen in ("UNDER_CONTROL", "AWAITING_CERTIFICATES", "UNANNOUNCED", "REVOKED",
                 "EXITED", "ARRIVED", "REPORTED", "FOREIGN_EXCHANGE"):
        assert seen in text, seen


async def test_the_demo_can_be_played_twice_on_one_store(gateway: Gateway,
                                                        pki_dir: Path) -> None:
    assert gateway.tls_port is not None
    for _ in range(2):
        out = io.StringIO()
        assert await play("127.0.0.1", gateway.tls_port, pki_dir, out,
                          server_hostname="localhost") == EXIT_OK, out.getvalue()


async def test_the_demo_reports_what_went_wrong(pki_dir: Path, tmp_path: Path) -> None:
    # a registry where the Ministry of Agriculture must sign: its unsigned certificates are
    # refused, and everything that depends on them goes differently
    registry = tmp_path / "participants.toml"
    registry.write_text(PARTICIPANTS_FILE.read_text().replace(
        'authority = "agriculture"\n', 'authority = "agriculture"\nsigning = true\n', 1)
        .replace("signing = false\n", "", 1))
    gateway = await start_gateway(make_config(pki_dir, tmp_path, PARTICIPANTS_FILE=str(registry)))
    try:
        assert gateway.tls_port is not None
        out = io.StringIO()
        status = await play("127.0.0.1", gateway.tls_port, pki_dir, out,
                            server_hostname="localhost")
    finally:
        await gateway.stop()
    text = out.getvalue()
    assert status == EXIT_UNEXPECTED, text
    assert "UNEXPECTED  MOA-0001" in text and "SIGNATURE_INVALID" in text
    assert re.search(r"\d+ of \d+ steps did not go as expected\.", text)


async def test_the_demo_needs_a_gateway(pki_dir: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = io.StringIO()
    assert await play("127.0.0.1", port, pki_dir, out) == EXIT_UNREACHABLE
    assert "cannot play the demo" in out.getvalue()
