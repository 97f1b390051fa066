"""Apply one message inside the writer's transaction: duplicate check, then its handler.

Commands are remembered by (SenderId, MessageId) in the store; a resend with
the same canonical body gets the original Reference and the object's current
Status, a different body is `DUPLICATE_CONFLICT`. Queries are answered afresh.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.context import Context
from handlers.outcomes import Accepted, Outcome
from handlers.ports import UnitOfWork
from handlers.registry import HANDLERS, PREFETCHERS
from protocol.envelope import Message
from protocol.errors import DuplicateConflict
from protocol.message_types import REQUEST_TYPES, MessageKind

#: The Status of a duplicate whose original registered no object with a status history.
RECEIVED = "RECEIVED"


def apply(ctx: Context, message: Message) -> Outcome:
    header = message.header
    spec = REQUEST_TYPES[header.message_type]
    handler = HANDLERS[header.message_type]
    if spec.kind is MessageKind.QUERY:
        return handler(ctx, message)

    digest = message.body_digest
    uow = ctx.uow
    prior = uow.messages.find(header.sender_id, header.message_id)
    if prior is not None:
        if prior.body_digest != digest:
            raise DuplicateConflict(ref_message_id=header.message_id)
        status = RECEIVED
        if prior.object_kind and prior.reference:
            status = uow.events.latest_status(prior.object_kind, prior.reference) or RECEIVED
        return Accepted(prior.object_kind, prior.reference, status, duplicate=True)

    ctx.message_pk = uow.messages.record(
        sender_id=header.sender_id, message_id=header.message_id,
        message_type=header.message_type, body_digest=digest, received_at=ctx.received_at,
        object_kind=None, reference=None, payload=message.payload,
    )
    outcome = handler(ctx, message)
    if isinstance(outcome, Accepted):
        uow.messages.link(ctx.message_pk, outcome.object_kind, outcome.reference)
    else:
        uow.messages.link(ctx.message_pk, None, None)
    return outcome


def prefetch(uow: UnitOfWork, messages: Sequence[Message]) -> None:
    """Before a batch: read at once what its messages' lookups will ask (the writer's
    transaction then answers them from memory; see `UnitOfWork.forget_prefetched`)."""
    commands = [m for m in messages
                if REQUEST_TYPES[m.header.message_type].kind is MessageKind.COMMAND]
    uow.messages.prefetch([(m.header.sender_id, m.header.message_id) for m in commands])
    by_type: dict[str, list[Message]] = {}
    for m in commands:
        if m.header.message_type in PREFETCHERS:
            by_type.setdefault(m.header.message_type, []).append(m)
    for message_type, group in by_type.items():
        PREFETCHERS[message_type](uow, group)
