"""The one explicit table of handlers, keyed by MessageType, and of the body readers
whose work the event loop does before a message reaches the writer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

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
from handlers.ports import UnitOfWork
from protocol.bodies.certificate import read_certificate, read_revocation
from protocol.bodies.declaration import read_control_decision, read_declaration
from protocol.bodies.enforcement import read_offense
from protocol.bodies.report import read_report_request
from protocol.bodies.status import read_pull_request, read_status_request
from protocol.bodies.transport import read_crossing, read_pre_arrival
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

#: Batch lookups, run by the writer before it applies a batch: each reads at once, for
#: all the batch's messages of its type, what their handler will look up one by one.
PREFETCHERS: dict[str, Callable[[UnitOfWork, list[Message]], None]] = {
    "CustomsDeclaration": declaration.prefetch,
}

#: Body readers run by `Pipeline.prepare` (on the event loop, outside the writer's
#: transaction); the handler's own `message.read(reader)` then finds the result. Every
#: type has one: the writer, which holds the store's write lock, decodes nothing.
EARLY_READERS: dict[str, Callable[[etree._Element], Any]] = {
    "CustomsDeclaration": read_declaration,
    "ControlDecision": read_control_decision,
    "ElectronicCertificate": read_certificate,
    "CertificateRevocation": read_revocation,
    "VehiclePreArrival": read_pre_arrival,
    "BorderCrossing": read_crossing,
    "OffenseReport": read_offense,
    "StatusRequest": read_status_request,
    "PullRequest": read_pull_request,
    "ReportRequest": read_report_request,
}

assert EARLY_READERS.keys() == HANDLERS.keys()
assert PREFETCHERS.keys() <= HANDLERS.keys()
