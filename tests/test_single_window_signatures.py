"""Signed ministry certificates (SECURITY 11-16) through the real server, with a registry
in which MOA-0001 must sign; the signer's revocation; `uams-gateway sign` and `certs init`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, XMLSigner, XMLVerifier

from gateway import pki
from gateway.cli import main
from gateway.config import Config
from gateway.participants import load_participants
from gateway.sign import sign_envelope
from gateway.signatures import CertificateSignatures
from handlers.participants import Participant, Role
from protocol.envelope import body_element
from protocol.errors import SignatureInvalid
from tests.builders import certificate, certificate_body, envelope, status_request
from tests.conftest import PARTICIPANTS_FILE, ROOT
from tests.single_window_support import (
    Connect,
    module_gateway_fixtures,
    send,
    single_window_config,
)

module_loop = pytest.mark.asyncio(loop_scope="module")

DS = "{http://www.w3.org/2000/09/xmldsig#}"
CERT = "{urn:uams:certificate:1}"
EXAMPLE_01 = ROOT / "examples" / "valid" / "01-certificate-phytosanitary.MOA-0001.xml"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"


def signing_registry(directory: Path, **changes: dict[str, Any]) -> Path:
    """The shipped registry with MOA-0001 signing, plus `changes` by participant id."""
    tables = tomllib.loads(PARTICIPANTS_FILE.read_text())["participant"]
    changes.setdefault("MOA-0001", {"signing": True})
    out = []
    for table in tables:
        table.update(changes.get(table["id"], {}))
        out.append("[[participant]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in table.items()))
    path = directory / "participants.toml"
    path.write_text("\n".join(out))
    return path


@pytest.fixture(scope="module")
def config(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Config:
    directory = tmp_path_factory.mktemp("signatures")
    # MOH-0001 stays non-signing but has a registered signing certificate
    registry = signing_registry(directory,
                                **{"MOH-0001": {"signing_cert": str(pki_dir / "MOH-0001.crt")}})
    return single_window_config(pki_dir, directory, PARTICIPANTS_FILE=str(registry))


gateway, connect = module_gateway_fixtures()


def signed(pki_dir: Path, payload: bytes, signer: str = "MOA-0001") -> bytes:
    return sign_envelope(payload, (pki_dir / f"{signer}.key").read_bytes(),
                         (pki_dir / f"{signer}.crt").read_text())


def body_of(envelope: bytes) -> tuple[etree._Element, etree._Element]:
    root = etree.fromstring(envelope)
    body = body_element(root)
    assert body is not None
    return root, body


async def assert_not_registered(connect: Connect, *numbers: str) -> None:
    officer = await connect("SCC-OFF1")
    for number in numbers:
        reply = await send(officer, status_request(sender="SCC-OFF1", reference=number))
        assert reply.code == "NOT_FOUND", number


@module_loop
async def test_signed_certificate_is_accepted(connect, pki_dir: Path) -> None:
    moa = await connect("MOA-0001")
    for number, cert_id in (("SIG-OK-ID", "cert-SIG-OK-ID"), ("SIG-OK-ROOT", None)):
        reply = await send(moa, signed(pki_dir, certificate(number=number, cert_id=cert_id)))
        assert (reply.reference, reply.status) == (number, "VALID")


@module_loop
async def test_missing_signature_is_refused_for_a_signing_ministry(connect) -> None:
    moa = await connect("MOA-0001")
    reply = await send(moa, certificate(number="SIG-MISSING"))
    assert reply.code == "SIGNATURE_INVALID"
    await assert_not_registered(connect, "SIG-MISSING")


@module_loop
async def test_altered_content_is_refused(connect, pki_dir: Path) -> None:
    moa = await connect("MOA-0001")
    root, body = body_of(signed(pki_dir, certificate(number="SIG-ALTERED", cert_id="c-alt")))
    body.find(CERT + "ConsigneeTaxId").text = "9999999999"  # type: ignore[union-attr]
    reply = await send(moa, etree.tostring(root))
    assert reply.code == "SIGNATURE_INVALID"
    await assert_not_registered(connect, "SIG-ALTERED")


@module_loop
async def test_signature_by_another_key_is_refused(connect, pki_dir: Path) -> None:
    moa = await connect("MOA-0001")
    reply = await send(moa, signed(pki_dir, certificate(number="SIG-WRONG"), signer="MOH-0001"))
    assert reply.code == "SIGNATURE_INVALID"


@module_loop
async def test_signature_wrapping_is_refused(connect, pki_dir: Path) -> None:
    """The signed certificate moved into the signature (a wrapper the schema does not look
    into) and a forged certificate put in its place. signxml alone verifies this document
    (asserted first); the gateway must not."""
    moa = await connect("MOA-0001")
    _, original = body_of(signed(pki_dir, certificate(number="XSW-ORIGINAL", cert_id="c1")))
    signature = original.find(DS + "Signature")
    assert signature is not None
    original.remove(signature)
    wrapped = etree.tostring(signature).decode().replace(
        "</ds:Signature>",
        f"<ds:Object>{etree.tostring(original).decode()}</ds:Object></ds:Signature>")
    forged = certificate_body(number="XSW-FORGED", tax_id="9999999999").replace(
        "</ElectronicCertificate>", wrapped + "</ElectronicCertificate>")
    fooled = XMLVerifier().verify(forged.encode(),
                                  x509_cert=(pki_dir / "MOA-0001.crt").read_text())
    assert not isinstance(fooled, list) and fooled.signed_xml is not None
    assert fooled.signed_xml.findtext(CERT + "CertificateNumber") == "XSW-ORIGINAL"

    reply = await send(moa, envelope("ElectronicCertificate", forged, sender="MOA-0001"))
    assert reply.code == "SIGNATURE_INVALID"
    await assert_not_registered(connect, "XSW-FORGED", "XSW-ORIGINAL")


@module_loop
async def test_duplicate_id_is_refused(connect, pki_dir: Path) -> None:
    moa = await connect("MOA-0001")
    root, body = body_of(signed(pki_dir, certificate(number="SIG-DUP-ID", cert_id="c-dup")))
    signature = body.find(DS + "Signature")
    assert signature is not None
    decoy = etree.SubElement(etree.SubElement(signature, DS + "Object"), "Decoy", Id="c-dup")
    decoy.text = "same Id as the certificate"
    reply = await send(moa, etree.tostring(root))
    assert reply.code == "SIGNATURE_INVALID"


@module_loop
@pytest.mark.parametrize(("method", "digest"), [
    (SignatureMethod.HMAC_SHA256, DigestAlgorithm.SHA256),   # a shared secret, not the key
    (SignatureMethod.ECDSA_SHA224, DigestAlgorithm.SHA256),  # weaker than SHA-256
    (SignatureMethod.ECDSA_SHA256, DigestAlgorithm.SHA224),
])
async def test_weak_or_symmetric_algorithms_are_refused(connect, pki_dir: Path,
                                                        method: SignatureMethod,
                                                        digest: DigestAlgorithm) -> None:
    moa = await connect("MOA-0001")
    root, body = body_of(certificate(number=f"SIG-ALG-{method.name}-{digest.name}",
                                     cert_id="c-alg"))
    hmac = method.name.startswith("HMAC")
    signer = XMLSigner(signature_algorithm=method, digest_algorithm=digest)
    signed_body = signer.sign(
        etree.fromstring(etree.tostring(body)),
        key=b"shared secret" if hmac else (pki_dir / "MOA-0001.key").read_bytes(),
        cert=None if hmac else (pki_dir / "MOA-0001.crt").read_text())
    parent = body.getparent()
    assert parent is not None
    parent.replace(body, signed_body)
    assert (await send(moa, etree.tostring(root))).code == "SIGNATURE_INVALID"


@module_loop
async def test_non_signing_ministry_may_send_unsigned_but_a_signature_is_checked(
        connect, pki_dir: Path) -> None:
    moh = await connect("MOH-0001")
    plain = await send(moh, certificate(number="MOH-PLAIN", cert_type="SANITARY",
                                        sender="MOH-0001"))
    assert plain.status == "VALID"
    good = await send(moh, signed(pki_dir, certificate(number="MOH-SIGNED", sender="MOH-0001",
                                                       cert_type="SANITARY"),
                                  signer="MOH-0001"))
    assert good.status == "VALID"
    bad = await send(moh, signed(pki_dir, certificate(number="MOH-BAD", sender="MOH-0001",
                                                      cert_type="SANITARY")))
    assert bad.code == "SIGNATURE_INVALID"


@module_loop
async def test_signed_example_from_the_sign_command_is_accepted(
        connect, pki_dir: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["sign", str(EXAMPLE_01), "--as", "MOA-0001", "--pki-dir", str(pki_dir)]) == 0
    output = capsysbinary.readouterr().out
    _, body = body_of(output)
    assert body[len(body) - 1].tag == DS + "Signature"
    moa = await connect("MOA-0001")
    reply = await send(moa, output)
    assert (reply.reference, reply.status) == ("PHY-2026-0001", "VALID")


# the verifier and the commands, without a server -------------------------------------------


def _ministry(cert_pem: str | None, *, signing: bool = True) -> Participant:
    from handlers.participants import Authority

    return Participant(id="MOA-0001", name="Ministry", role=Role.MINISTRY,
                       authority=Authority.AGRICULTURE, signing=signing,
                       signing_cert_pem=cert_pem)


def test_verifier_returns_what_was_signed_and_checks_the_crl(tmp_path: Path) -> None:
    pki.init_dev_pki(tmp_path, ["MOA-0001"])
    cert_pem = (tmp_path / "MOA-0001.crt").read_text()
    _, body = body_of(sign_envelope(certificate(number="CRL-1"),
                                    (tmp_path / "MOA-0001.key").read_bytes(), cert_pem))
    verifier = CertificateSignatures(tmp_path / "crl.pem")
    result = verifier(body, _ministry(cert_pem))
    assert result is not body and result.tag == body.tag
    assert result.find(DS + "Signature") is None
    assert result.findtext(CERT + "CertificateNumber") == "CRL-1"

    pki.revoke(tmp_path, "MOA-0001")
    with pytest.raises(SignatureInvalid):
        verifier(body, _ministry(cert_pem))
    CertificateSignatures(None)(body, _ministry(cert_pem))  # the CRL is what revoked it
    with pytest.raises(SignatureInvalid):  # no CRL to be read: fail closed
        CertificateSignatures(tmp_path / "absent-crl.pem")(body, _ministry(cert_pem))


def test_signature_without_a_registered_signing_certificate_is_refused(
        pki_dir: Path) -> None:
    _, body = body_of(signed(pki_dir, certificate(number="NO-CERT")))
    with pytest.raises(SignatureInvalid):
        CertificateSignatures(None)(body, _ministry(None, signing=False))
    _, plain = body_of(certificate(number="NO-CERT-PLAIN"))
    assert CertificateSignatures(None)(plain, _ministry(None, signing=False)) is plain


def test_sign_command_refuses_what_it_cannot_sign(
        pki_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sign", str(EXAMPLE_01), "--as", "MOH-0001", "--pki-dir", str(pki_dir)]) == 2
    assert "SenderId" in capsys.readouterr().err
    declaration = ROOT / "examples" / "valid" / "05-declaration-machinery.BRK-0001.xml"
    assert main(["sign", str(declaration), "--as", "BRK-0001", "--pki-dir", str(pki_dir)]) == 2
    assert "not an ElectronicCertificate" in capsys.readouterr().err
    assert main(["sign", str(EXAMPLE_01), "--as", "MOA-0001",
                 "--pki-dir", str(tmp_path)]) == 2  # no key there


def test_certs_init_issues_signing_certificates_before_loading_the_registry(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = signing_registry(tmp_path)
    dev_dir = tmp_path / "dev"
    config = tmp_path / "gateway.toml"
    config.write_text(f"[participants]\nfile = {json.dumps(str(registry))}\n"
                      f"[pki]\ndev_dir = {json.dumps(str(dev_dir))}\n")
    assert main(["certs", "--config", str(config), "init"]) == 0
    assert "development PKI ready" in capsys.readouterr().out
    moa = load_participants(registry, dev_cert_dir=dev_dir).get("MOA-0001")
    assert moa is not None and moa.signing
    assert moa.signing_cert_pem == (dev_dir / "MOA-0001.crt").read_text()
