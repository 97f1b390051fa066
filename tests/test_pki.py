"""Development PKI and TLS contexts: files, certificate contents, real mTLS handshakes.

Handshakes run over `ssl.MemoryBIO` pairs (no sockets) except one asyncio loopback
test. With TLS 1.3 the client believes the handshake succeeded before the server
has judged its certificate, so every refusal is asserted on the server side, and
the server must never have read application data.
"""

from __future__ import annotations

import asyncio
import ssl
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway import pki

IDS = ("BRK-0001", "MOA-0001")


@pytest.fixture(scope="module")
def dev_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    pki.init_dev_pki(directory, IDS)
    return directory


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _server(directory: Path, *, crl: bool = True) -> ssl.SSLContext:
    return pki.server_ssl_context(directory / "server.crt", directory / "server.key",
                                  directory / "ca.crt", directory / "crl.pem" if crl else None)


def _client(directory: Path, participant: str | None, *, ca_dir: Path | None = None,
            ) -> ssl.SSLContext:
    cert = directory / f"{participant}.crt" if participant else None
    key = directory / f"{participant}.key" if participant else None
    return pki.client_ssl_context((ca_dir or directory) / "ca.crt", cert, key)


@dataclass
class Outcome:
    server_error: ssl.SSLError | None
    client_error: ssl.SSLError | None
    received: bytes
    peer: tuple[str | None, bytes]


def _exchange(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext,
              hostname: str = "localhost") -> Outcome:
    """Handshake in memory, then send b"ping" from the client; report what the server saw."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=hostname)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    client_error = server_error = None
    client_done = server_done = False
    for _ in range(20):
        if not client_done and client_error is None:
            try:
                client.do_handshake()
                client_done = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                client_error = exc
        s_in.write(c_out.read())
        if not server_done and server_error is None:
            try:
                server.do_handshake()
                server_done = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                server_error = exc
        c_in.write(s_out.read())
        if (client_done or client_error) and (server_done or server_error):
            break
    received = b""
    if client_done and server_done:
        client.write(b"ping")
        s_in.write(c_out.read())
        try:
            received = server.read(4)
        except ssl.SSLError as exc:
            server_error = exc
    peer = pki.peer_identity(server) if server_done else (None, b"")
    return Outcome(server_error, client_error, received, peer)


def test_init_creates_every_file(dev_pki: Path) -> None:
    names = {p.name for p in dev_pki.iterdir()}
    assert names == {"ca.crt", "ca.key", "server.crt", "server.key", "crl.pem",
                     "BRK-0001.crt", "BRK-0001.key", "MOA-0001.crt", "MOA-0001.key"}
    for key in dev_pki.glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def test_init_is_idempotent(tmp_path: Path) -> None:
    pki.init_dev_pki(tmp_path, ["BRK-0001"])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    pki.init_dev_pki(tmp_path, ["BRK-0001", "TRD-0001"])
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert {name: after[name] for name in before} == before
    assert set(after) - set(before) == {"TRD-0001.crt", "TRD-0001.key"}


def test_ca_certificate(dev_pki: Path) -> None:
    ca = _cert(dev_pki / "ca.crt")
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == pki.CA_NAME
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign


def test_participant_certificate(dev_pki: Path) -> None:
    cert = _cert(dev_pki / "BRK-0001.crt")
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "BRK-0001"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == \
        pki.PARTICIPANT_ORG
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert cert.issuer == _cert(dev_pki / "ca.crt").subject


def test_server_certificate_names(dev_pki: Path) -> None:
    cert = _cert(dev_pki / "server.crt")
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_bad_participant_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        pki.init_dev_pki(tmp_path, ["../evil"])
    assert not list(tmp_path.iterdir())


def test_issue_needs_a_ca(tmp_path: Path) -> None:
    with pytest.raises(pki.PkiError):
        pki.issue_participant_cert(tmp_path, "BRK-0001")


def test_mutual_tls_handshake(dev_pki: Path) -> None:
    outcome = _exchange(_server(dev_pki), _client(dev_pki, "BRK-0001"))
    assert outcome.server_error is None and outcome.client_error is None
    assert outcome.received == b"ping"
    common_name, der = outcome.peer
    assert common_name == "BRK-0001"
    assert pki.fingerprint(der) == pki.fingerprint(
        _cert(dev_pki / "BRK-0001.crt").public_bytes(Encoding.DER))


def test_server_hostname_is_checked(dev_pki: Path) -> None:
    outcome = _exchange(_server(dev_pki), _client(dev_pki, "BRK-0001"), hostname="other.test")
    assert isinstance(outcome.client_error, ssl.SSLCertVerificationError)
    assert outcome.received == b""


def test_no_client_certificate_is_refused(dev_pki: Path) -> None:
    outcome = _exchange(_server(dev_pki), _client(dev_pki, None))
    assert outcome.server_error is not None
    assert outcome.received == b""


def test_certificate_of_another_ca_is_refused(dev_pki: Path, tmp_path: Path) -> None:
    pki.init_dev_pki(tmp_path, ["BRK-0001"])
    # Same participant id, but issued by a foreign CA; the client trusts our server.
    outcome = _exchange(_server(dev_pki), _client(tmp_path, "BRK-0001", ca_dir=dev_pki))
    assert isinstance(outcome.server_error, ssl.SSLCertVerificationError)
    assert outcome.received == b""


def test_revoked_certificate_is_refused_once_the_crl_is_loaded(tmp_path: Path) -> None:
    pki.init_dev_pki(tmp_path, ["BRK-0001", "TRD-0001"])
    pki.revoke(tmp_path, "BRK-0001")
    revoked = _exchange(_server(tmp_path), _client(tmp_path, "BRK-0001"))
    assert isinstance(revoked.server_error, ssl.SSLCertVerificationError)
    assert revoked.server_error.verify_message == "certificate revoked"
    assert revoked.received == b""
    # Others still connect; without a CRL the revoked one would (hence the flag).
    assert _exchange(_server(tmp_path), _client(tmp_path, "TRD-0001")).received == b"ping"
    no_crl = _exchange(_server(tmp_path, crl=False), _client(tmp_path, "BRK-0001"))
    assert no_crl.received == b"ping"


def test_revocation_is_kept_by_a_later_refresh(tmp_path: Path) -> None:
    pki.init_dev_pki(tmp_path, ["BRK-0001"])
    pki.revoke(tmp_path, "BRK-0001")
    pki.refresh_crl(tmp_path)
    crl = x509.load_pem_x509_crl((tmp_path / "crl.pem").read_bytes())
    serial = _cert(tmp_path / "BRK-0001.crt").serial_number
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert len(crl) == 1


def test_tls_1_1_client_is_refused(dev_pki: Path) -> None:
    client_ctx = _client(dev_pki, "BRK-0001")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client_ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        client_ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    client_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client really offer TLS 1.1
    outcome = _exchange(_server(dev_pki), client_ctx)
    assert outcome.server_error is not None
    assert "UNSUPPORTED_PROTOCOL" in str(outcome.server_error)
    assert outcome.received == b""


def test_peer_identity_refuses_an_ambiguous_common_name() -> None:
    class TwoNames:
        def getpeercert(self, binary_form: bool = False) -> object:
            if binary_form:
                return b"der"
            return {"subject": ((("commonName", "BRK-0001"),), (("commonName", "SCC-OFF1"),))}

    assert pki.peer_identity(TwoNames()) == (None, b"der")  # type: ignore[arg-type]


async def test_asyncio_loopback_mutual_tls(dev_pki: Path) -> None:
    seen: list[tuple[str | None, bytes]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(pki.peer_identity(writer.get_extra_info("ssl_object")))
        writer.write(await reader.readexactly(4))
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=_server(dev_pki))
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=_client(dev_pki, "MOA-0001"), server_hostname="localhost")
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    assert seen[0][0] == "MOA-0001"
