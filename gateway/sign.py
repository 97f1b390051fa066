"""`uams-gateway sign FILE --as ID`: sign the ElectronicCertificate of an envelope.

Reads an envelope, signs its certificate element with an enveloped XML
signature (ECDSA or RSA with SHA-256, exclusive canonicalization; Reference
`#<Id>` when the element has an Id, else `""`) using the participant's key and
certificate from the PKI folder (`<ID>.key`, `<ID>.crt`; development: certs/dev)
and writes the signed envelope to stdout. A signature already there is
replaced. Comments are not kept.

    uams-gateway sign examples/valid/01-certificate-phytosanitary.MOA-0001.xml \
        --as MOA-0001 > /tmp/01-signed.xml
    uams-gateway send /tmp/01-signed.xml --as MOA-0001
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from protocol import namespaces as ns
from protocol.envelope import PARTICIPANT_ID, body_element, header_fields
from protocol.errors import UamsError
from protocol.xml import parse_document

EXIT_OK = 0
EXIT_ERROR = 2
CERTIFICATE_TAG = f"{{{ns.CERTIFICATE}}}ElectronicCertificate"
#: Bodies `sign` signs: the native certificate and the UN/CEFACT SPS (ePhyto) certificate.
SIGNABLE = frozenset({CERTIFICATE_TAG, f"{{{ns.SPS_CERTIFICATE}}}SPSCertificate"})
SIGNATURE_TAG = f"{{{ns.XMLDSIG}}}Signature"


class SignError(Exception):
    """A usage problem, reported as one line and exit status 2."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of `sign` on its sub-parser."""
    parser.add_argument("file", type=Path, metavar="FILE", help="envelope with a certificate")
    parser.add_argument("--as", dest="participant", required=True, metavar="ID",
                        help="signing ministry (selects <pki-dir>/ID.key and ID.crt)")
    parser.add_argument("--pki-dir", type=Path, default=Path("certs/dev"),
                        help="directory holding ID.key and ID.crt (default: certs/dev)")


def sign_envelope(payload: bytes, key_pem: bytes, cert_pem: str) -> bytes:
    """The envelope with its ElectronicCertificate signed (enveloped signature)."""
    try:
        root = parse_document(payload)
    except UamsError:
        raise SignError("the file is not well-formed, allowed UAMS/1 XML") from None
    body = body_element(root)
    if body is None or body.tag not in SIGNABLE:
        raise SignError("the envelope's body is not an ElectronicCertificate (native or SPS)")
    for old in list(body.iter(SIGNATURE_TAG)):
        parent = old.getparent()
        assert parent is not None
        parent.remove(old)
    key = load_pem_private_key(key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        method = SignatureMethod.ECDSA_SHA256
    elif isinstance(key, rsa.RSAPrivateKey):
        method = SignatureMethod.RSA_SHA256
    else:
        raise SignError("the key must be an EC or RSA private key")
    signer = XMLSigner(signature_algorithm=method, digest_algorithm=DigestAlgorithm.SHA256,
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    detached = etree.fromstring(etree.tostring(body))
    signed = signer.sign(detached, key=key, cert=cert_pem)
    signed.tail = body.tail
    parent = body.getparent()
    assert parent is not None
    parent.replace(body, signed)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def run(args: argparse.Namespace, out: BinaryIO | None = None) -> int:
    """Sign `args.file` as `args.participant`; write the result to `out` (stdout)."""
    try:
        if not PARTICIPANT_ID.fullmatch(args.participant):
            raise SignError(f"--as {args.participant!r} is not a participant id")
        payload = args.file.read_bytes()
        sender = header_fields(parse_document(payload)).get("SenderId")
        if sender != args.participant:
            raise SignError(f"SenderId {sender!r} is not {args.participant}")
        key_pem = (args.pki_dir / f"{args.participant}.key").read_bytes()
        cert_pem = (args.pki_dir / f"{args.participant}.crt").read_text(encoding="ascii")
        signed = sign_envelope(payload, key_pem, cert_pem)
    except UamsError:
        print(f"uams-gateway sign: {args.file}: not well-formed, allowed UAMS/1 XML",
              file=sys.stderr)
        return EXIT_ERROR
    except SignError as exc:
        print(f"uams-gateway sign: {args.file}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, ValueError) as exc:
        name = f"{exc.filename}: " if isinstance(exc, OSError) and exc.filename else ""
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"uams-gateway sign: {name}{reason}", file=sys.stderr)
        return EXIT_ERROR
    target = out if out is not None else sys.stdout.buffer
    target.write(signed)
    target.flush()
    return EXIT_OK
