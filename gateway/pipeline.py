"""The pipeline of one request: parse → envelope and body schema → who, may they →
(writer thread: duplicate? → handler → commit) → reply bytes.

`prepare` is the CPU part and runs where the connection runs; it either
returns a `Prepared` message for the writer or raises the `UamsError` that
rejects it. `reply_for` turns the writer's outcome into the reply envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from lxml import etree

from adapters.repositories.unit_of_work import SqlUnitOfWork
from handlers import dispatch
from handlers.context import Context
from handlers.outcomes import Accepted, Answer, Outcome
from handlers.participants import Participant, ParticipantRegistry
from handlers.permissions import may_send
from handlers.registry import EARLY_READERS
from protocol import replies
from protocol.envelope import (
    ENVELOPE_TAG,
    Message,
    body_element,
    header_fields,
    message_from,
    readable_message_id,
)
from protocol.errors import (
    Detail,
    NotAuthorized,
    SchemaInvalid,
    SenderMismatch,
    UamsError,
    UnknownMessageType,
)
from protocol.message_types import REQUEST_TYPES, MessageKind, MessageType
from protocol.schemas import SchemaSet
from protocol.xml import parse_document


@dataclass(slots=True)
class Prepared:
    """A request that passed every check the loop can make; the writer does the rest."""

    message: Message
    spec: MessageType
    participant: Participant
    received: datetime


Clock = Callable[[], datetime]


class BodyFormat(Protocol):
    """An alternate body accepted for a message type (e.g. a UN/CEFACT SPS certificate).

    It is validated against its own schema pack and translated into the native
    UAMS body, which is then validated by the UAMS schemas like any other.
    """

    def validate(self, body: etree._Element) -> None:
        """Raise `SchemaInvalid` when the body does not match its own schemas."""

    def to_native(self, body: etree._Element, sender_id: str) -> etree._Element:
        """The equivalent body element in the message type's UAMS namespace.

        `sender_id` is the authenticated participant sending it (e.g. the
        Declarant of a declaration, which foreign formats name differently).
        """


#: Checks a signed body and returns the element that was really signed (SECURITY 13);
#: raises `SignatureInvalid`.
Verifier = Callable[[etree._Element, Participant], etree._Element]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    def __init__(self, schemas: SchemaSet, registry: ParticipantRegistry, *,
                 gateway_id: str = "SCC", timezone: str = "UTC",
                 clock: Clock = utc_now) -> None:
        self.schemas = schemas
        self.registry = registry
        self.gateway_id = gateway_id
        self.zone = ZoneInfo(timezone)
        self.clock = clock
        #: handed to handlers as ctx.extras; "zone" = the gateway's time zone (a tzinfo)
        self.extras: dict[str, object] = {"zone": self.zone}
        #: (MessageType, body element's Clark name) → accepted alternate format
        self.alternate_formats: dict[tuple[str, str], BodyFormat] = {}
        #: MessageType → signature verifier, run after authorization
        self.verifiers: dict[str, Verifier] = {}

    # loop side ------------------------------------------------------------------------------

    def prepare(self, payload: bytes, participant: Participant) -> Prepared:
        """Parse and check one request. Raises the `UamsError` that rejects it."""
        root = parse_document(payload)
        fields = header_fields(root)
        ref = readable_message_id(fields)
        try:
            return self._check(root, fields, payload, participant)
        except UamsError as error:
            error.ref_message_id = error.ref_message_id or ref
            raise

    def _check(self, root: etree._Element, fields: dict[str, str], payload: bytes,
               participant: Participant) -> Prepared:
        if root.tag != ENVELOPE_TAG:
            raise SchemaInvalid([Detail("The document element must be a UAMS Envelope.",
                                        path="/" + etree.QName(root).localname)])
        type_name = fields.get("MessageType", "")
        spec = REQUEST_TYPES.get(type_name)
        body = body_element(root)
        alternate: BodyFormat | None = None
        if spec is not None and body is not None and body.tag != spec.qname:
            alternate = self.alternate_formats.get((spec.name, body.tag))
            if alternate is None:
                raise UnknownMessageType([Detail(
                    "Body does not hold the element MessageType names.", path="/Envelope/Body")])
        if spec is None and type_name and body is not None:
            raise UnknownMessageType([Detail("MessageType is not registered.",
                                             path="/Envelope/Header/MessageType")])
        self.schemas.validate(root)  # the header always; the body too when it is native
        if spec is None:  # schema-valid yet unknown: e.g. a reply type sent as a request
            raise UnknownMessageType([Detail("MessageType is not a request type.",
                                             path="/Envelope/Header/MessageType")])
        if alternate is not None:
            assert body is not None
            alternate.validate(body)
        message = message_from(root, payload, fields, body)
        if message.header.sender_id != participant.id:
            raise SenderMismatch()
        if not may_send(participant, spec.name):
            raise NotAuthorized()
        verifier = self.verifiers.get(spec.name)
        if verifier is not None:
            message.body = verifier(message.body, participant)
        if alternate is not None:
            message.body = alternate.to_native(message.body, participant.id)
            self.schemas.validate(message.body)
        self._read_ahead(message, spec)
        return Prepared(message, spec, participant, self.clock())

    @staticmethod
    def _read_ahead(message: Message, spec: MessageType) -> None:
        """CPU work the writer would otherwise do inside its transaction."""
        if spec.kind is not MessageKind.QUERY:
            _ = message.body_digest  # duplicates are compared by it
        reader = EARLY_READERS.get(spec.name)
        if reader is not None:
            message.read(reader)

    # writer side ----------------------------------------------------------------------------

    def apply(self, uow: SqlUnitOfWork, prepared: Prepared) -> Outcome:
        """Run inside the writer's transaction (and the message's savepoint)."""
        received = prepared.received
        ctx = Context(
            uow=uow, participant=prepared.participant, registry=self.registry,
            now=received, today=received.astimezone(self.zone).date(),
            received_at=received.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            extras=self.extras,
        )
        return dispatch.apply(ctx, prepared.message)

    def prefetch(self, uow: SqlUnitOfWork, batch: list[Prepared]) -> None:
        """Before the writer applies `batch`: its lookups, read at once."""
        dispatch.prefetch(uow, [prepared.message for prepared in batch])

    # replies --------------------------------------------------------------------------------

    def reply_for(self, prepared: Prepared, outcome: Outcome | UamsError) -> bytes:
        header = prepared.message.header
        if isinstance(outcome, UamsError):
            return self.rejection(outcome, prepared.participant.id, header.message_id)
        if isinstance(outcome, Accepted):
            body = replies.receipt_body(
                ref_message_id=header.message_id,
                received_at=replies.utc_timestamp(prepared.received),
                reference=outcome.reference, status=outcome.status,
                duplicate=outcome.duplicate)
            message_type = "Receipt"
        else:
            assert isinstance(outcome, Answer)
            body, message_type = outcome.body, outcome.message_type
        return replies.envelope(message_type, body, recipient_id=prepared.participant.id,
                                correlation_id=header.message_id, sender_id=self.gateway_id)

    def rejection(self, error: UamsError, recipient_id: str | None,
                  ref_message_id: str | None = None) -> bytes:
        ref = ref_message_id or error.ref_message_id
        return replies.envelope("Rejection", replies.rejection_body(error, ref),
                                recipient_id=recipient_id, correlation_id=ref,
                                sender_id=self.gateway_id)
