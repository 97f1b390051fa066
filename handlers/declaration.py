"""CustomsDeclaration: register it, number it, record its first status (PROTOCOL §6, §8)."""

from __future__ import annotations

from handlers.context import Context
from handlers.lifecycle import record_status
from handlers.outcomes import Accepted
from handlers.visibility import parties_of_declaration
from protocol.bodies.declaration import read_declaration
from protocol.envelope import Message
from protocol.errors import rule_violation

KIND = "DECLARATION"
REGISTERED = "REGISTERED"


def declaration_number(year: int, n: int) -> str:
    return f"AZ-DEC-{year}-{n:07d}"


def lodge(ctx: Context, message: Message) -> Accepted:
    body = read_declaration(message.body)
    if body.declarant_id != ctx.participant.id:
        raise rule_violation("DECLARANT_IS_SENDER",
                             "Declarant must be the participant that lodges the declaration.")
    if ctx.uow.declarations.by_lrn(body.declarant_id, body.lrn) is not None:
        raise rule_violation("LRN_UNIQUE",
                             "LocalReferenceNumber was already used by this declarant.")
    seqs = [item.seq for item in body.items]
    if len(set(seqs)) != len(seqs):
        raise rule_violation("ITEM_SEQUENCE_UNIQUE", "GoodsItem SequenceNumbers must be unique.")
    number = declaration_number(ctx.today.year, ctx.uow.next_number("declaration"))
    ctx.uow.declarations.insert(body, number=number, status=REGISTERED,
                                registered_at=ctx.received_at,
                                registration_date=ctx.registration_date,
                                message_pk=ctx.message_pk)
    record_status(ctx, kind=KIND, reference=number, status=REGISTERED,
                  parties=parties_of_declaration(body.declarant_id, body.consignee_tax_id,
                                                 ctx.registry))
    return Accepted(KIND, number, REGISTERED)
