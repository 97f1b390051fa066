"""Signed electronic certificates (PROTOCOL §6, SECURITY 11-16).

`CertificateSignatures` is the pipeline's verifier for ElectronicCertificate.
It runs after authorization and returns the element to process:

- no signature: the body as received, unless the ministry is configured as
  signing (then SIGNATURE_INVALID);
- a signature: it must be the one `ds:Signature` in the certificate, its last
  child (enveloped), with exactly one Reference, and that Reference must cover
  the certificate element itself (`URI=""` or `URI="#<its Id>"`), so that a
  signed element moved elsewhere (signature wrapping) is refused. It must verify
  against the ministry's registered signing certificate (pinned, never a CA
  bundle) with SHA-256 or stronger, no HMAC, and that certificate must be within
  its validity and not on the CRL of the gateway's PKI. A ministry with no
  registered signing certificate cannot have its signature verified, so a
  signature from it is refused too. What is returned is what signxml reports as
  signed (`VerifyResult.signed_xml`), never the received element.

Why a signature failed is logged, never sent: the peer gets SIGNATURE_INVALID.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
from cryptography import x509
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.verifier import SignatureConfiguration, XMLVerifier

from gateway.pipeline import Pipeline
from handlers.participants import Participant
from protocol import namespaces as ns
from protocol.errors import Detail, SignatureInvalid

log = structlog.get_logger("uams.signatures")

SIGNATURE_TAG = f"{{{ns.XMLDSIG}}}Signature"
_REFERENCE = f"{{{ns.XMLDSIG}}}SignedInfo/{{{ns.XMLDSIG}}}Reference"
MESSAGE_TYPE = "ElectronicCertificate"

SIGNATURE_METHODS = frozenset({
    SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512,
    SignatureMethod.SHA256_RSA_MGF1, SignatureMethod.SHA384_RSA_MGF1,
    SignatureMethod.SHA512_RSA_MGF1,
    SignatureMethod.ECDSA_SHA256, SignatureMethod.ECDSA_SHA384, SignatureMethod.ECDSA_SHA512,
})
DIGEST_ALGORITHMS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384,
                               DigestAlgorithm.SHA512})
EXPECTED = SignatureConfiguration(
    require_x509=True,
    location="./",           # a child of the certificate element
    expect_references=1,
    signature_methods=SIGNATURE_METHODS,
    digest_algorithms=DIGEST_ALGORITHMS,
)

_local = threading.local()


def _parser() -> etree.XMLParser:
    """What signxml re-parses our (already checked) element with: hardened all the same."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
            attribute_defaults=False, huge_tree=False)
    return parser


def _invalid(text: str) -> SignatureInvalid:
    return SignatureInvalid([Detail(text)])


class RevocationList:
    """The CRL of the gateway's PKI, re-read when the file changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._crl: x509.CertificateRevocationList | None = None
        self._lock = threading.Lock()

    def _current(self) -> x509.CertificateRevocationList | None:
        assert self.path is not None
        st = self.path.stat()  # OSError: no CRL to be had, the caller fails closed
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._crl = x509.load_pem_x509_crl(self.path.read_bytes())
                self._stamp = stamp
            return self._crl

    def is_revoked(self, cert: x509.Certificate) -> bool:
        """True when the CRL (of the certificate's issuer) lists it. Without a configured
        CRL nothing is revoked; an unreadable CRL raises (OSError, ValueError)."""
        if self.path is None:
            return False
        crl = self._current()
        if crl is None or crl.issuer != cert.issuer:
            return False  # signed by another CA: this CRL says nothing about it
        return crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None


class CertificateSignatures:
    """Verifier of ElectronicCertificate signatures; see the module documentation."""

    def __init__(self, crl_file: Path | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.revocations = RevocationList(crl_file)
        self._certificates: dict[str, x509.Certificate] = {}
        #: the instant at which the signer's certificate must be valid: receipt time
        self.clock = clock or (lambda: datetime.now(UTC))

    def __call__(self, body: etree._Element, participant: Participant) -> etree._Element:
        signatures = list(body.iter(SIGNATURE_TAG))
        if not signatures:
            if participant.signing:
                log.info("signature_rejected", participant=participant.id, why="missing")
                raise _invalid("The certificate must carry the ministry's XML signature.")
            return body
        if participant.signing_cert_pem is None:
            log.info("signature_rejected", participant=participant.id, why="no signing cert")
            raise _invalid("No signing certificate is registered for this ministry.")
        if len(signatures) != 1 or body[len(body) - 1] is not signatures[0]:
            log.info("signature_rejected", participant=participant.id, why="location")
            raise _invalid("One enveloped ds:Signature must be the last child of the "
                           "certificate element.")
        signer = self._certificate(participant.signing_cert_pem)
        self._check_revocation(signer, participant)
        try:
            expected = dataclasses.replace(EXPECTED, verification_time=self.clock())
            result = XMLVerifier().verify(etree.tostring(body), x509_cert=signer,
                                          parser=_parser(), expect_config=expected)
        except Exception as exc:  # every failure of signxml means the same to the peer
            log.info("signature_rejected", participant=participant.id,
                     why=type(exc).__name__, detail=str(exc)[:200])
            raise _invalid("The signature does not verify against the ministry's "
                           "registered certificate.") from None
        assert not isinstance(result, list)  # expect_references=1
        reference = result.signature_xml.find(_REFERENCE)
        uri = reference.get("URI") if reference is not None else None
        own_id = body.get("Id")
        if not (uri == "" or (own_id is not None and uri == f"#{own_id}")):
            log.info("signature_rejected", participant=participant.id, why="reference")
            raise _invalid("The signature must cover the certificate element itself.")
        signed = result.signed_xml
        if signed is None or signed.tag != body.tag:
            log.info("signature_rejected", participant=participant.id, why="signed element")
            raise _invalid("The signature must cover the certificate element itself.")
        return signed

    def _certificate(self, pem: str) -> x509.Certificate:
        cert = self._certificates.get(pem)
        if cert is None:
            cert = self._certificates[pem] = x509.load_pem_x509_certificate(pem.encode("ascii"))
        return cert

    def _check_revocation(self, signer: x509.Certificate, participant: Participant) -> None:
        try:
            revoked = self.revocations.is_revoked(signer)
        except (OSError, ValueError) as exc:
            log.error("signature_crl_unreadable", error=type(exc).__name__,
                      detail=str(exc)[:200])
            raise _invalid("The revocation status of the signing certificate is "
                           "unknown.") from None
        if revoked:
            log.info("signature_rejected", participant=participant.id, why="revoked signer")
            raise _invalid("The ministry's signing certificate is revoked.")


def install(pipeline: Pipeline, *, crl_file: Path | None) -> CertificateSignatures:
    """Register the certificate verifier on a pipeline."""
    verifier = CertificateSignatures(crl_file, clock=lambda: pipeline.clock())
    pipeline.verifiers[MESSAGE_TYPE] = verifier
    return verifier
