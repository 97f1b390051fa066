"""Development PKI and the TLS contexts of both ends of a UAMS/1 connection.

`init_dev_pki` writes a throw-away CA, a server certificate, one client
certificate per participant and an empty CRL into a folder (EC P-256, SHA-256).
DEVELOPMENT ONLY: the private keys are written unencrypted (mode 0600) next to
the certificates, and the CA key sits on the same disk as everything it signs.
Production certificates come from the Single Window's real CA.

The server context trusts exactly one CA file and, when a CRL is given, checks
the client certificate against it (`VERIFY_CRL_CHECK_LEAF`; without that flag
OpenSSL ignores a loaded CRL). The stdlib cannot replace a CRL inside an existing
`SSLContext` (loading another one only adds to the store), so a changed CRL
means building a new context with `server_ssl_context` and using it for new
connections. A CRL must be replaced before its nextUpdate: OpenSSL refuses
every certificate against an expired CRL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import ssl
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from handlers.participants import PARTICIPANT_ID, fingerprint

__all__ = [
    "PkiError",
    "client_ssl_context",
    "fingerprint",
    "init_dev_pki",
    "issue_participant_cert",
    "peer_identity",
    "refresh_crl",
    "revoke",
    "server_ssl_context",
]

CA_NAME = "UAMS Development CA"
PARTICIPANT_ORG = "UAMS participant"
CRL_DAYS = 7
_CLOCK_SKEW = dt.timedelta(minutes=5)
_CRL_REFRESH_MARGIN = dt.timedelta(days=1)


class PkiError(Exception):
    """The development PKI folder is incomplete or inconsistent."""


def init_dev_pki(directory: Path, participant_ids: Iterable[str], *,
                 server_names: Iterable[str] = ("localhost",),
                 server_ips: Iterable[str] = ("127.0.0.1",),
                 days: int = 825) -> None:
    """Create whatever is missing of the development PKI in `directory`.

    Existing files are kept; the CRL is only re-signed (same entries) when it
    is missing or expires within a day.
    """
    ids = [_checked_id(participant_id) for participant_id in participant_ids]
    directory.mkdir(parents=True, exist_ok=True)
    ca_crt, ca_key = directory / "ca.crt", directory / "ca.key"
    if not ca_crt.exists() and not ca_key.exists():
        _write_ca(directory, days)
    elif not (ca_crt.exists() and ca_key.exists()):
        raise PkiError(f"{directory}: ca.crt and ca.key must both exist; remove the folder "
                       "to start a new development PKI")
    if not _pair_exists(directory, "server"):
        _issue_server(directory, tuple(server_names), tuple(server_ips), days)
    for participant_id in ids:
        if not _pair_exists(directory, participant_id):
            issue_participant_cert(directory, participant_id, days=days)
    crl_file = directory / "crl.pem"
    if not crl_file.exists() or _crl_expires_soon(crl_file):
        refresh_crl(directory)


def issue_participant_cert(directory: Path, participant_id: str, *,
                           days: int = 825) -> tuple[Path, Path]:
    """Issue (or replace) `<ID>.crt` and `<ID>.key`, signed by the CA in `directory`."""
    participant_id = _checked_id(participant_id)
    ca_cert, ca_key = _load_ca(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, participant_id),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, PARTICIPANT_ORG),
    ])
    builder = (
        _leaf_builder(subject, key, ca_cert, days)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    cert = builder.sign(ca_key, hashes.SHA256())
    return _write_pair(directory, participant_id, cert, key)


def revoke(directory: Path, participant_id: str) -> None:
    """Add the serial of `<ID>.crt` to `crl.pem` and re-sign the CRL."""
    participant_id = _checked_id(participant_id)
    cert = x509.load_pem_x509_certificate((directory / f"{participant_id}.crt").read_bytes())
    refresh_crl(directory, add_serials=(cert.serial_number,))


def refresh_crl(directory: Path, *, add_serials: Iterable[int] = (),
                days: int = CRL_DAYS) -> None:
    """Re-sign `crl.pem` with fresh dates, its old entries and `add_serials`."""
    ca_cert, ca_key = _load_ca(directory)
    crl_file = directory / "crl.pem"
    now = _now()
    revoked: dict[int, x509.RevokedCertificate] = {}
    number = 1
    if crl_file.exists():
        old = x509.load_pem_x509_crl(crl_file.read_bytes())
        revoked = {entry.serial_number: entry for entry in old}
        with contextlib.suppress(x509.ExtensionNotFound):
            number = old.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
    for serial in add_serials:
        revoked.setdefault(serial, x509.RevokedCertificateBuilder()
                           .serial_number(serial).revocation_date(now).build())
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - _CLOCK_SKEW)
        .next_update(now + dt.timedelta(days=days))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_authority_key_id(ca_cert), critical=False)
    )
    for entry in revoked.values():
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(ca_key, hashes.SHA256())
    _write(crl_file, crl.public_bytes(serialization.Encoding.PEM), 0o644)


def server_ssl_context(cert_file: Path, key_file: Path, ca_file: Path,
                       crl_file: Path | None) -> ssl.SSLContext:
    """Mutual-TLS server context: TLS 1.2+, client certificate required from `ca_file` only."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_RENEGOTIATION
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    ctx.load_cert_chain(cert_file, key_file)
    ctx.load_verify_locations(cafile=ca_file)
    if crl_file is not None:
        ctx.load_verify_locations(cafile=crl_file)
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return ctx


def client_ssl_context(ca_file: Path, cert_file: Path | None,
                       key_file: Path | None) -> ssl.SSLContext:
    """Client context: TLS 1.2+, server verified against `ca_file` with hostname check."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    ctx.load_verify_locations(cafile=ca_file)
    if cert_file is not None:
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


def peer_identity(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> tuple[str | None, bytes]:
    """The verified peer's subject CN and its certificate as DER.

    CN is None when there is none or more than one (ambiguous); DER is `b""`
    when the peer sent no certificate.
    """
    der = ssl_object.getpeercert(binary_form=True) or b""
    decoded = ssl_object.getpeercert() or {}
    subject: Any = decoded.get("subject", ())
    names = [value for rdn in subject for attribute, value in rdn if attribute == "commonName"]
    return (names[0] if len(names) == 1 else None), der


def _checked_id(participant_id: str) -> str:
    # Ids become file names: the pattern also keeps them inside the folder.
    if not PARTICIPANT_ID.fullmatch(participant_id):
        raise ValueError(f"not a participant id: {participant_id!r}")
    return participant_id


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _pair_exists(directory: Path, stem: str) -> bool:
    return (directory / f"{stem}.crt").exists() and (directory / f"{stem}.key").exists()


def _crl_expires_soon(crl_file: Path) -> bool:
    crl = x509.load_pem_x509_crl(crl_file.read_bytes())
    next_update = crl.next_update_utc
    return next_update is None or next_update - _now() < _CRL_REFRESH_MARGIN


def _load_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate((directory / "ca.crt").read_bytes())
        key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), None)
    except FileNotFoundError:
        raise PkiError(f"{directory}: no development CA (ca.crt, ca.key); "
                       "run `uams-gateway certs init`") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{directory}/ca.key: expected an EC private key")
    return cert, key


def _authority_key_id(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _write_ca(directory: Path, days: int) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UAMS Gateway"),
    ])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_pair(directory, "ca", cert, key)


def _issue_server(directory: Path, names: tuple[str, ...], ips: tuple[str, ...],
                  days: int) -> None:
    ca_cert, ca_key = _load_ca(directory)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "UAMS Gateway"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UAMS Gateway"),
    ])
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        _leaf_builder(subject, key, ca_cert, days)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_pair(directory, "server", cert, key)


def _leaf_builder(subject: x509.Name, key: ec.EllipticCurvePrivateKey,
                  ca_cert: x509.Certificate, days: int) -> x509.CertificateBuilder:
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(_authority_key_id(ca_cert), critical=False)
    )


def _write_pair(directory: Path, stem: str, cert: x509.Certificate,
                key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    # Development only: the key is stored without a passphrase.
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    key_file, cert_file = directory / f"{stem}.key", directory / f"{stem}.crt"
    _write(key_file, key_pem, 0o600)
    _write(cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert_file, key_file


def _write(target: Path, data: bytes, mode: int) -> None:
    """Write atomically: a temporary file with the final mode, then rename over `target`."""
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
