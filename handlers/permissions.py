"""Who may send what (PROTOCOL §5): one table, by role."""

from __future__ import annotations

from handlers.participants import Authority, Participant, Role

QUERIES = frozenset({"StatusRequest", "PullRequest"})

MAY_SEND: dict[Role, frozenset[str]] = {
    Role.BROKER: QUERIES | {"CustomsDeclaration", "VehiclePreArrival"},
    Role.TRADER: QUERIES | {"CustomsDeclaration"},
    Role.CARRIER: QUERIES | {"VehiclePreArrival"},
    Role.MINISTRY: QUERIES,  # certificate types depend on the authority, below
    Role.CUSTOMS_POST: QUERIES | {"BorderCrossing", "OffenseReport"},
    Role.CUSTOMS: QUERIES | {"ControlDecision", "OffenseReport", "ReportRequest"},
    Role.PARTNER: QUERIES,
}

#: Certificate types each ministry may issue and revoke.
CERTIFICATE_TYPES: dict[Authority, frozenset[str]] = {
    Authority.AGRICULTURE: frozenset({"PHYTOSANITARY", "VETERINARY"}),
    Authority.HEALTH: frozenset({"SANITARY"}),
}

_CERTIFICATE_MESSAGES = frozenset({"ElectronicCertificate", "CertificateRevocation"})


def may_send(participant: Participant, message_type: str) -> bool:
    """Whether the participant's role allows this message type at all."""
    if message_type in MAY_SEND[participant.role]:
        return True
    if participant.role is Role.MINISTRY:
        if message_type in _CERTIFICATE_MESSAGES:
            return participant.authority in CERTIFICATE_TYPES
        if message_type == "ReportRequest":
            return participant.authority is Authority.TAXES
    return False


def may_issue(participant: Participant, certificate_type: str) -> bool:
    """Whether a ministry may issue or revoke certificates of this type."""
    if participant.role is not Role.MINISTRY or participant.authority is None:
        return False
    return certificate_type in CERTIFICATE_TYPES.get(participant.authority, frozenset())
