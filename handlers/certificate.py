"""ElectronicCertificate and CertificateRevocation (PROTOCOL §5, §6, §8).

A ministry registers certificates of the types its authority issues (status
VALID); numbers are unique across the Single Window. Registering one looks
again, in the same transaction, at the declarations waiting for it. Only the
issuing ministry revokes (status REVOKED); declarations that relied on the
certificate go back to waiting, or are flagged when already released.
"""

from __future__ import annotations

from handlers import declaration
from handlers.context import Context
from handlers.crosscheck import REVOKED, VALID
from handlers.lifecycle import record_status
from handlers.lookup import StatusView
from handlers.outcomes import Accepted
from handlers.participants import ParticipantRegistry
from handlers.permissions import may_issue
from handlers.times import gateway_zone, local_date
from protocol.bodies.certificate import read_certificate, read_revocation
from protocol.envelope import Message
from protocol.errors import NotAuthorized, NotFound, rule_violation

KIND = "CERTIFICATE"

__all__ = ["KIND", "REVOKED", "VALID", "issue", "parties_of_certificate", "revoke",
           "status_view"]


def parties_of_certificate(issuer_id: str, consignee_tax_id: str,
                           registry: ParticipantRegistry) -> set[str]:
    """Participant ids party to a certificate: its issuer and the consignee's traders."""
    parties = {issuer_id}
    parties.update(p.id for p in registry.traders_with_tax_id(consignee_tax_id))
    return parties


def issue(ctx: Context, message: Message) -> Accepted:
    body = message.read(read_certificate)
    if not may_issue(ctx.participant, body.cert_type):
        raise NotAuthorized()
    # One at a time per consignee with declarations that may wait for this certificate:
    # one lodged on another node at this moment is then seen below, or sees this one.
    ctx.uow.clearance.lock_consignee(body.consignee_tax_id)
    certificates = ctx.uow.certificates
    if certificates.by_number(body.number) is not None:
        raise rule_violation("CERTIFICATE_NUMBER_UNIQUE",
                             f"Certificate number {body.number} is already registered.")
    issued_date = local_date(body.issued_at, gateway_zone(ctx.extras))
    if body.valid_until < issued_date:
        raise rule_violation("CERTIFICATE_VALIDITY",
                             f"ValidUntil {body.valid_until} is before the date of IssuedAt "
                             f"({issued_date}).")
    certificates.insert(body, issuer_id=ctx.participant.id, issued_date=issued_date,
                        status=VALID, registered_at=ctx.received_at, message_pk=ctx.message_pk)
    record_status(ctx, kind=KIND, reference=body.number, status=VALID,
                  parties=parties_of_certificate(ctx.participant.id, body.consignee_tax_id,
                                                 ctx.registry))
    for declaration_id in ctx.uow.clearance.waiting_for(body.number, body.consignee_tax_id,
                                                        body.cert_type):
        declaration.reevaluate(ctx, declaration_id, arrived=body.number)
    return Accepted(KIND, body.number, VALID)


def revoke(ctx: Context, message: Message) -> Accepted:
    body = message.read(read_revocation)
    cert = ctx.uow.certificates.by_number(body.number)
    if cert is None or cert.issuer_id != ctx.participant.id:
        raise NotFound()  # another ministry's certificate is as invisible as a missing one
    if not may_issue(ctx.participant, cert.cert_type):
        raise NotAuthorized()
    ctx.uow.clearance.lock_consignee(cert.consignee_tax_id)  # see issue()
    cert = ctx.uow.certificates.by_number(body.number) or cert  # as of holding the lock
    if cert.status == REVOKED:
        raise rule_violation("CERTIFICATE_NOT_REVOKED",
                             f"Certificate {cert.number} is already revoked.")
    ctx.uow.certificates.set_status(cert.id, status=REVOKED, at=ctx.received_at,
                                    reason=body.reason)
    record_status(ctx, kind=KIND, reference=cert.number, status=REVOKED, note=body.reason,
                  parties=parties_of_certificate(cert.issuer_id, cert.consignee_tax_id,
                                                 ctx.registry))
    for declaration_id in ctx.uow.clearance.relying_on(cert.number):
        declaration.certificate_revoked(ctx, declaration_id, cert.number)
    return Accepted(KIND, cert.number, REVOKED)


def status_view(ctx: Context, reference: str) -> StatusView | None:
    """The certificate with this number, for a StatusRequest."""
    cert = ctx.uow.certificates.by_number(reference)
    if cert is None:
        return None
    parties = parties_of_certificate(cert.issuer_id, cert.consignee_tax_id, ctx.registry)
    return StatusView(KIND, cert.number, cert.status, cert.status_changed_at,
                      frozenset(parties))
