"""The one explicit table of handlers, keyed by MessageType."""

from __future__ import annotations

from collections.abc import Callable

from handlers import declaration, received, status
from handlers.context import Context
from handlers.outcomes import Outcome
from protocol.envelope import Message
from protocol.message_types import REQUEST_TYPES

Handler = Callable[[Context, Message], Outcome]

HANDLERS: dict[str, Handler] = {
    "CustomsDeclaration": declaration.lodge,
    "ControlDecision": received.keep,
    "ElectronicCertificate": received.keep,
    "CertificateRevocation": received.keep,
    "VehiclePreArrival": received.keep,
    "BorderCrossing": received.keep,
    "OffenseReport": received.keep,
    "StatusRequest": status.answer,
    "PullRequest": received.keep,
    "ReportRequest": received.keep,
}

assert HANDLERS.keys() == REQUEST_TYPES.keys(), "every registered type needs a handler"
