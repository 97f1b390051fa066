"""The interfaces handlers need from a store, implemented by `adapters/`.

A `UnitOfWork` lives inside one transaction (and one savepoint per message)
of the group-commit writer. Everything a handler writes through it commits or
rolls back with the message that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from protocol.bodies.declaration import CustomsDeclaration


@dataclass(frozen=True, slots=True)
class PriorMessage:
    """An accepted message with the same (SenderId, MessageId)."""

    body_digest: str
    object_kind: str | None
    reference: str | None


@dataclass(frozen=True, slots=True)
class StatusEvent:
    at: str
    status: str
    note: str | None


@dataclass(frozen=True, slots=True)
class DeclarationState:
    id: int
    number: str
    declarant_id: str
    lrn: str
    procedure_type: str
    customs_office: str
    consignee_tax_id: str
    status: str
    risk_channel: str | None
    registration_date: str
    status_changed_at: str


class MessageLog(Protocol):
    def find(self, sender_id: str, message_id: str) -> PriorMessage | None: ...

    def record(self, *, sender_id: str, message_id: str, message_type: str, body_digest: str,
               received_at: str, object_kind: str | None, reference: str | None,
               payload: bytes) -> int:
        """Remember an accepted command and keep its payload; returns the message key."""

    def link(self, message_pk: int, object_kind: str | None, reference: str) -> None:
        """Note which object an accepted message registered or changed."""


class EventLog(Protocol):
    def append(self, *, object_kind: str, reference: str, status: str, at: str,
               note: str | None = None, message_pk: int | None = None) -> None: ...

    def history(self, object_kind: str, reference: str) -> list[StatusEvent]:
        """Every event of one object, oldest first."""

    def latest_status(self, object_kind: str, reference: str) -> str | None: ...


class DeclarationRepository(Protocol):
    def insert(self, body: CustomsDeclaration, *, number: str, status: str, registered_at: str,
               registration_date: str, message_pk: int | None) -> int: ...

    def by_number(self, number: str) -> DeclarationState | None: ...

    def by_lrn(self, declarant_id: str, lrn: str) -> DeclarationState | None: ...

    def set_status(self, declaration_id: int, *, status: str, at: str,
                   risk_channel: str | None = None, decision_rule: str | None = None) -> None: ...


class Outbox(Protocol):
    def add(self, *, recipient_id: str, at: str, reference: str, kind: str, status: str,
            note: str | None = None) -> int:
        """Queue one status notification; returns its per-recipient sequence number."""


class UnitOfWork(Protocol):
    messages: MessageLog
    events: EventLog
    declarations: DeclarationRepository
    outbox: Outbox

    def next_number(self, kind: str) -> int:
        """The next value of a registration-number sequence ('declaration', 'pre_arrival', …)."""
