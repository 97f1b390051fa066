"""A CRL (or certificate) replaced on disk applies to new connections without a restart."""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path

import pytest

from gateway.app import start_gateway
from gateway.client import ConnectionClosed, UamsClient, parse_reply
from gateway.pki import revoke
from tests.builders import declaration
from tests.conftest import client_context, make_config


async def _declare(port: int, pki: Path, who: str) -> str:
    client = await UamsClient.connect("127.0.0.1", port, client_context(pki, who),
                                      server_hostname="localhost", timeout=5)
    try:
        return parse_reply(await client.request(declaration(sender=who))).message_type
    finally:
        await client.close()


async def test_revoked_certificate_is_refused_after_the_crl_changes(pki_dir: Path,
                                                                    tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    shutil.copytree(pki_dir, pki)
    config = make_config(pki, tmp_path, TLS_CRL_FILE=str(pki / "crl.pem"),
                         TLS_RELOAD_INTERVAL_SECONDS="3600")
    gateway = await start_gateway(config)
    try:
        port = gateway.tls_port or 0
        assert await _declare(port, pki, "BRK-0001") == "Receipt"
        revoke(pki, "BRK-0001")
        assert gateway.tls.reload_if_changed()
        with pytest.raises((ConnectionClosed, ssl.SSLError, ConnectionError, OSError)):
            await _declare(port, pki, "BRK-0001")
        assert await _declare(port, pki, "TRD-0001") == "Receipt", "others still connect"
        assert not gateway.tls.reload_if_changed(), "nothing changed since"
    finally:
        await gateway.stop()


async def test_a_broken_replacement_keeps_the_working_context(pki_dir: Path,
                                                              tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    shutil.copytree(pki_dir, pki)
    config = make_config(pki, tmp_path, TLS_CRL_FILE=str(pki / "crl.pem"))
    gateway = await start_gateway(config)
    try:
        (pki / "crl.pem").write_text("not a CRL")
        assert not gateway.tls.reload_if_changed()
        assert await _declare(gateway.tls_port or 0, pki, "BRK-0001") == "Receipt"
    finally:
        await gateway.stop()
