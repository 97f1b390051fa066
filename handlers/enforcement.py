"""OffenseReport: a customs post or customs records an offense (PROTOCOL §6).

Registered as `AZ-OFF-<year>-<7 digits>`, status REPORTED. A DeclarationNumber,
when given, must be registered; the declaration then gets an event (its status
unchanged) whose note names the offense, notified to its parties like any
other event. The report may name a vehicle, a declaration, both or neither.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.declaration import KIND as DECLARATION
from handlers.lifecycle import record_status
from handlers.lookup import StatusView
from handlers.outcomes import Accepted
from handlers.times import utc_text
from handlers.transport import known_declarations
from handlers.visibility import parties_of_declaration
from protocol.bodies.enforcement import read_offense
from protocol.envelope import Message

KIND = "OFFENSE"
REPORTED = "REPORTED"


def offense_number(year: int, n: int) -> str:
    return f"AZ-OFF-{year}-{n:07d}"


def report(ctx: Context, message: Message) -> Accepted:
    """Register an offense; Receipt Reference = its number, Status REPORTED."""
    body = message.read(read_offense)
    linked = known_declarations(
        ctx, (body.declaration_number,) if body.declaration_number is not None else (),
        "/Envelope/Body/OffenseReport/DeclarationNumber")
    number = offense_number(ctx.today.year, ctx.uow.next_number("offense"))
    ctx.uow.offenses.insert(body, number=number, reporter_id=ctx.participant.id,
                            detected_at=utc_text(body.detected_at), status=REPORTED,
                            registered_at=ctx.received_at, message_pk=ctx.message_pk)
    record_status(ctx, kind=KIND, reference=number, status=REPORTED,
                  parties={ctx.participant.id}, note=body.offense_type)
    for state in linked:
        parties = parties_of_declaration(state.declarant_id, state.consignee_tax_id,
                                         ctx.registry)
        record_status(ctx, kind=DECLARATION, reference=state.number, status=state.status,
                      parties=parties, note=f"Offense {number} reported: {body.offense_type}.")
    return Accepted(KIND, number, REPORTED)


def status_view(ctx: Context, reference: str) -> StatusView | None:
    """An offense by number, for StatusRequest; party to it: who reported it."""
    if not reference.startswith("AZ-OFF-"):
        return None
    offense = ctx.uow.offenses.by_number(reference)
    if offense is None:
        return None
    return StatusView(KIND, offense.number, offense.status, offense.status_changed_at,
                      frozenset({offense.reporter_id}))
