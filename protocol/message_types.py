"""The registered message types of UAMS/1 (PROTOCOL §6): name → body namespace."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from protocol import namespaces as ns


class MessageKind(StrEnum):
    COMMAND = "command"   # changes state; remembered for idempotency; answered with a Receipt
    QUERY = "query"       # a read, answered afresh every time


@dataclass(frozen=True, slots=True)
class MessageType:
    name: str
    namespace: str
    kind: MessageKind
    reply: str  # MessageType of the reply envelope

    @property
    def qname(self) -> str:
        return f"{{{self.namespace}}}{self.name}"


def _command(name: str, namespace: str) -> MessageType:
    return MessageType(name, namespace, MessageKind.COMMAND, "Receipt")


def _query(name: str, namespace: str, reply: str) -> MessageType:
    return MessageType(name, namespace, MessageKind.QUERY, reply)


#: Every message type a participant may send, keyed by its MessageType header value.
REQUEST_TYPES: dict[str, MessageType] = {
    t.name: t
    for t in (
        _command("CustomsDeclaration", ns.DECLARATION),
        _command("ControlDecision", ns.DECLARATION),
        _command("ElectronicCertificate", ns.CERTIFICATE),
        _command("CertificateRevocation", ns.CERTIFICATE),
        _command("VehiclePreArrival", ns.TRANSPORT),
        _command("BorderCrossing", ns.TRANSPORT),
        _command("OffenseReport", ns.ENFORCEMENT),
        _query("StatusRequest", ns.STATUS, "StatusResponse"),
        _query("PullRequest", ns.STATUS, "PullResponse"),
        _query("ReportRequest", ns.REPORT, "ReportResponse"),
    )
}

#: Message types the gateway sends: replies and notifications.
REPLY_TYPES: dict[str, str] = {
    "Receipt": ns.REPLY,
    "Rejection": ns.REPLY,
    "StatusResponse": ns.STATUS,
    "PullResponse": ns.STATUS,
    "ReportResponse": ns.REPORT,
    "StatusNotification": ns.STATUS,
}
