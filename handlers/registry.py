"""The one explicit table of handlers, keyed by MessageType."""

from __future__ import annotations

from collections.abc import Callable

from handlers import (
    certificate,
    control,
    crossing,
    declaration,
    enforcement,
    pull,
    reports,
    status,
    transport,
)
from handlers.context import Context
from handlers.outcomes import Outcome
from protocol.envelope import Message
from protocol.message_types import REQUEST_TYPES

Handler = Callable[[Context, Message], Outcome]

HANDLERS: dict[str, Handler] = {
    "CustomsDeclaration": declaration.lodge,
    "ControlDecision": control.decide,
    "ElectronicCertificate": certificate.issue,
    "CertificateRevocation": certificate.revoke,
    "VehiclePreArrival": transport.announce,
    "BorderCrossing": crossing.record,
    "OffenseReport": enforcement.report,
    "StatusRequest": status.answer,
    "PullRequest": pull.answer,
    "ReportRequest": reports.answer,
}

assert HANDLERS.keys() == REQUEST_TYPES.keys(), "every registered type needs a handler"
