"""The interfaces handlers need from a store, implemented by `adapters/`.

A `UnitOfWork` lives inside one transaction (and one savepoint per message)
of the group-commit writer. Everything a handler writes through it commits or
rolls back with the message that caused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from protocol.bodies.certificate import ElectronicCertificate
from protocol.bodies.declaration import CustomsDeclaration
from protocol.bodies.enforcement import OffenseReport
from protocol.bodies.transport import BorderCrossing, VehiclePreArrival


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
    def prefetch(self, keys: Sequence[tuple[str, str]]) -> None:
        """Read at once what `find` will answer for these (sender_id, message_id) keys."""

    def find(self, sender_id: str, message_id: str) -> PriorMessage | None: ...

    def record(self, *, sender_id: str, message_id: str, message_type: str, body_digest: str,
               received_at: str, object_kind: str | None, reference: str | None,
               payload: bytes) -> int:
        """Remember an accepted command and keep its payload; returns the message key."""

    def link(self, message_pk: int, object_kind: str | None, reference: str | None) -> None:
        """The accepted message's handler is done: note which object it registered or
        changed (None: none). Called once for every recorded message that succeeded."""


class EventLog(Protocol):
    def append(self, *, object_kind: str, reference: str, status: str, at: str,
               note: str | None = None, message_pk: int | None = None) -> None: ...

    def history(self, object_kind: str, reference: str) -> list[StatusEvent]:
        """Every event of one object, oldest first."""

    def latest_status(self, object_kind: str, reference: str) -> str | None: ...


class DeclarationRepository(Protocol):
    def insert(self, body: CustomsDeclaration, *, number: str, status: str, registered_at: str,
               registration_date: str, message_pk: int | None,
               risk_channel: str | None = None, decision_rule: str | None = None) -> int: ...

    def by_number(self, number: str) -> DeclarationState | None: ...

    def by_lrn(self, declarant_id: str, lrn: str) -> DeclarationState | None: ...

    def prefetch_lrns(self, keys: Sequence[tuple[str, str]]) -> None:
        """Read at once what `by_lrn` will answer for these (declarant_id, lrn) keys."""

    def set_status(self, declaration_id: int, *, status: str, at: str,
                   risk_channel: str | None = None, decision_rule: str | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class Notification:
    """One queued status notification of one recipient (PROTOCOL §7)."""

    seq: int
    at: str
    reference: str
    kind: str
    status: str
    note: str | None


class Outbox(Protocol):
    def add(self, *, recipient_id: str, at: str, reference: str, kind: str, status: str,
            note: str | None = None) -> int:
        """Queue one status notification; returns its per-recipient sequence number."""

    def add_for(self, recipient_ids: list[str], *, at: str, reference: str, kind: str,
                status: str, note: str | None = None) -> None:
        """Queue the same status notification for several recipients (one Seq each)."""

    def lock_stream(self, recipient_id: str) -> int:
        """Hold the recipient's stream until the transaction ends; returns its last Seq (0: none).

        Pulls and sequence allocation of one recipient are serialized by this lock
        across nodes sharing the store.
        """

    def acknowledge(self, recipient_id: str, up_to: int) -> int:
        """Mark the recipient's notifications with Seq <= up_to as pulled; returns how many."""

    def unacknowledged(self, recipient_id: str, after: int, limit: int) -> list[Notification]:
        """Up to `limit` not-yet-pulled notifications with Seq > after, in increasing Seq."""


# -- vehicle movements, enforcement, reports -------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreArrivalState:
    id: int
    number: str
    announcer_id: str
    direction: str
    border_crossing_point: str
    expected_at: str  # UTC text
    vehicle_key: str
    status: str
    status_changed_at: str
    declaration_numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CrossingState:
    id: int
    number: str
    post_id: str
    status: str
    status_changed_at: str


@dataclass(frozen=True, slots=True)
class OffenseState:
    id: int
    number: str
    reporter_id: str
    status: str
    status_changed_at: str


class PreArrivalRepository(Protocol):
    def insert(self, body: VehiclePreArrival, *, number: str, announcer_id: str,
               expected_at: str, vehicle_key: str, status: str, registered_at: str,
               message_pk: int | None) -> int:
        """Register a pre-arrival with its (distinct) declaration numbers; returns its key."""

    def by_number(self, number: str) -> PreArrivalState | None: ...

    def with_status(self, *, vehicle_key: str, border_crossing_point: str, direction: str,
                    status: str) -> list[PreArrivalState]:
        """Pre-arrivals of one vehicle at one crossing point and direction, oldest first."""

    def set_status(self, pre_arrival_id: int, *, status: str, at: str) -> None: ...


class CrossingRepository(Protocol):
    def insert(self, body: BorderCrossing, *, number: str, post_id: str, crossed_at: str,
               crossing_date: str, vehicle_key: str, pre_arrival_id: int | None, status: str,
               registered_at: str, message_pk: int | None,
               declaration_numbers: tuple[str, ...]) -> int: ...

    def by_number(self, number: str) -> CrossingState | None: ...


class OffenseRepository(Protocol):
    def insert(self, body: OffenseReport, *, number: str, reporter_id: str, detected_at: str,
               status: str, registered_at: str, message_pk: int | None) -> int: ...

    def by_number(self, number: str) -> OffenseState | None: ...


@dataclass(frozen=True, slots=True)
class FinancialRow:
    customs_office: str
    tax_type: str
    declarations: int
    amount: int  # cents of the report currency


@dataclass(frozen=True, slots=True)
class ForeignExchangeRow:
    currency: str
    declarations: int
    invoice_amount: int  # cents


@dataclass(frozen=True, slots=True)
class TrafficRow:
    border_crossing_point: str
    direction: str
    vehicles: int
    announced: int


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """Calendar dates `YYYY-MM-DD`, both inclusive; `customs_office` None = every office."""

    date_from: str
    date_to: str
    customs_office: str | None = None


class ReportQueries(Protocol):
    """Aggregates computed by the store (GROUP BY), rows ordered by their key columns."""

    def financial(self, period: ReportPeriod, *, currency: str,
                  excluded_status: str) -> list[FinancialRow]:
        """Per office and tax type: declarations registered in the period (not in
        `excluded_status`) with a tax line of that type, and the sum of those lines
        whose currency is `currency`."""

    def foreign_exchange(self, period: ReportPeriod, *,
                         excluded_status: str) -> list[ForeignExchangeRow]:
        """Per invoice currency: declarations and the sum of their total invoice amounts."""

    def traffic(self, period: ReportPeriod) -> list[TrafficRow]:
        """Per crossing point (the office filter) and direction: crossings dated in the
        period, and how many of them were matched to a pre-arrival."""


# certificates and the single-window decision ---------------------------------------------


@dataclass(frozen=True, slots=True)
class CertificateState:
    """A registered electronic certificate with the HS codes of its goods."""

    id: int
    number: str
    cert_type: str
    issuer_id: str
    issued_date: str      # IssuedAt's calendar date in the gateway's time zone
    valid_until: str
    consignee_tax_id: str
    status: str           # VALID or REVOKED
    hs_codes: tuple[str, ...]
    status_changed_at: str


class CertificateRepository(Protocol):
    def insert(self, body: ElectronicCertificate, *, issuer_id: str, issued_date: str,
               status: str, registered_at: str, message_pk: int | None) -> int: ...

    def by_number(self, number: str) -> CertificateState | None: ...

    def candidates(self, consignee_tax_id: str, cert_type: str,
                   status: str) -> list[CertificateState]:
        """Certificates of one type, consignee and status, oldest first."""

    def set_status(self, certificate_id: int, *, status: str, at: str,
                   reason: str | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the single-window rules look at in one goods item."""

    seq: int
    hs_code: str
    origin_country: str
    invoice_amount: int  # cents
    documents: tuple[tuple[str, str], ...]  # (Type, Number), in document order


@dataclass(frozen=True, slots=True)
class DeclarationFacts:
    """What the single-window rules look at in one declaration."""

    id: int
    number: str
    declarant_id: str
    procedure_type: str
    customs_office: str
    consignee_tax_id: str
    invoice_currency: str
    total_invoice_amount: int  # cents
    registration_date: str
    status: str
    items: tuple[ItemFacts, ...]  # in document order


@dataclass(frozen=True, slots=True)
class CertificateWait:
    """A required certificate a waiting declaration has not got yet.

    `certificate_number` is the referenced number, or None when the item
    referenced none and any counting certificate of the type will do.
    """

    item_seq: int
    cert_type: str
    consignee_tax_id: str
    hs_heading: str
    certificate_number: str | None


@dataclass(frozen=True, slots=True)
class CertificateLink:
    """Which certificate satisfied which required type of which item."""

    item_seq: int
    cert_type: str
    certificate_number: str


class ClearanceRepository(Protocol):
    """Declarations seen by the single-window decision: facts, waits and links."""

    def lock_consignee(self, consignee_tax_id: str) -> None:
        """Hold the consignee's clearance lock until the transaction ends, so that
        declarations and certificates of one consignee are decided one at a time."""

    def facts(self, declaration_id: int) -> DeclarationFacts | None: ...

    def set_waits(self, declaration_id: int, waits: list[CertificateWait]) -> None:
        """Replace what the declaration waits for (empty: it waits for nothing)."""

    def set_links(self, declaration_id: int, links: list[CertificateLink]) -> None:
        """Replace which certificates the declaration relies on."""

    def waiting_for(self, number: str, consignee_tax_id: str, cert_type: str) -> list[int]:
        """Ids of declarations waiting for this certificate number, or for any certificate
        of this type and consignee; ascending."""

    def relying_on(self, number: str) -> list[int]:
        """Ids of declarations that rely on this certificate; ascending."""


class UnitOfWork(Protocol):
    """Everything a handler may read or change, inside the current transaction."""

    def forget_prefetched(self) -> None:
        """Answer every lookup from the store again (another node may have written)."""

    @property
    def messages(self) -> MessageLog: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def declarations(self) -> DeclarationRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def certificates(self) -> CertificateRepository: ...

    @property
    def clearance(self) -> ClearanceRepository: ...

    @property
    def pre_arrivals(self) -> PreArrivalRepository: ...

    @property
    def crossings(self) -> CrossingRepository: ...

    @property
    def offenses(self) -> OffenseRepository: ...

    @property
    def reports(self) -> ReportQueries: ...

    def next_number(self, kind: str) -> int:
        """The next value of a registration-number sequence ('declaration', 'pre_arrival', …)."""
