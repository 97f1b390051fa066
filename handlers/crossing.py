"""BorderCrossing: a customs post records a vehicle crossing (PROTOCOL §6, §8).

The crossing is registered as `AZ-BCR-<year>-<7 digits>`. It is matched to a
pre-arrival: the one named by PreArrivalNumber (which must exist, be still
ANNOUNCED and be for the same vehicle, crossing point and direction), or else
the open (ANNOUNCED) pre-arrival of the same vehicle, point and direction
whose ExpectedAt is nearest to CrossedAt, at most `MATCH_WINDOW` away.
Matched: status RECORDED and the pre-arrival becomes CROSSED. Not matched:
status UNANNOUNCED, with a note.

The crossed declarations are those the crossing lists plus those linked to
its pre-arrival. A RELEASED import crossing on ENTRY becomes ARRIVED, a
RELEASED export crossing on EXIT becomes EXITED. Any other declaration does
not move: the crossing is still recorded, and both the crossing and the
declaration get an event whose note says why. The Receipt's Status is the
crossing's own (RECORDED or UNANNOUNCED).
"""

from __future__ import annotations

from datetime import timedelta

from handlers.context import Context
from handlers.declaration import KIND as DECLARATION
from handlers.lifecycle import record_status
from handlers.lookup import StatusView
from handlers.outcomes import Accepted
from handlers.ports import DeclarationState, PreArrivalState
from handlers.times import gateway_zone, local_date, parse_time, utc_text
from handlers.transport import ANNOUNCED, CROSSED, known_declarations, vehicle_key
from handlers.transport import KIND as PRE_ARRIVAL
from handlers.visibility import parties_of_declaration
from protocol.bodies.transport import BorderCrossing, read_crossing
from protocol.envelope import Message
from protocol.errors import rule_violation

KIND = "CROSSING"
RECORDED = "RECORDED"
UNANNOUNCED = "UNANNOUNCED"
RELEASED = "RELEASED"

#: (procedure, direction) → the status a RELEASED declaration reaches by crossing
CROSSED_STATUS: dict[tuple[str, str], str] = {
    ("IM", "ENTRY"): "ARRIVED",
    ("EX", "EXIT"): "EXITED",
}

_PATH = "/Envelope/Body/BorderCrossing"
#: A crossing without PreArrivalNumber is matched only to a pre-arrival expected this close
MATCH_WINDOW = timedelta(days=7)


def crossing_number(year: int, n: int) -> str:
    return f"AZ-BCR-{year}-{n:07d}"


def _named_pre_arrival(ctx: Context, body: BorderCrossing, number: str) -> PreArrivalState:
    pre = ctx.uow.pre_arrivals.by_number(number)
    if pre is None:
        raise rule_violation("PRE_ARRIVAL_EXISTS", "The pre-arrival is not registered.")
    if (pre.vehicle_key != vehicle_key(body.vehicle_registration)
            or pre.border_crossing_point != body.border_crossing_point
            or pre.direction != body.direction):
        raise rule_violation("PRE_ARRIVAL_MATCHES", "The pre-arrival is for another vehicle, "
                             "border crossing point or direction.")
    if pre.status != ANNOUNCED:
        raise rule_violation("PRE_ARRIVAL_OPEN", "The pre-arrival was already used by a crossing.")
    return pre


def _open_pre_arrival(ctx: Context, body: BorderCrossing) -> PreArrivalState | None:
    candidates = ctx.uow.pre_arrivals.with_status(
        vehicle_key=vehicle_key(body.vehicle_registration),
        border_crossing_point=body.border_crossing_point, direction=body.direction,
        status=ANNOUNCED)
    crossed = parse_time(body.crossed_at)
    distance = {pre.id: abs(parse_time(pre.expected_at) - crossed) for pre in candidates}
    in_window = [pre for pre in candidates if distance[pre.id] <= MATCH_WINDOW]
    if not in_window:
        return None
    # nearest ExpectedAt wins; on a tie the earlier announcement (min is stable)
    return min(in_window, key=lambda pre: distance[pre.id])


def _move(ctx: Context, state: DeclarationState, body: BorderCrossing, number: str) -> str | None:
    """Move one crossed declaration; returns why it did not move, or None."""
    target = CROSSED_STATUS.get((state.procedure_type, body.direction))
    parties = parties_of_declaration(state.declarant_id, state.consignee_tax_id, ctx.registry)
    if state.status == RELEASED and target is not None:
        ctx.uow.declarations.set_status(state.id, status=target, at=ctx.received_at)
        record_status(ctx, kind=DECLARATION, reference=state.number, status=target,
                      parties=parties, note=f"Crossing {number} at {body.border_crossing_point}.")
        return None
    if state.status != RELEASED:
        why = f"Declaration {state.number} is {state.status}, not RELEASED."
    else:
        why = (f"Declaration {state.number} (procedure {state.procedure_type}) "
               f"does not cross on {body.direction}.")
    record_status(ctx, kind=DECLARATION, reference=state.number, status=state.status,
                  parties=parties, note=f"Crossing {number}: not moved. {why}")
    return why


def record(ctx: Context, message: Message) -> Accepted:
    """Register a crossing; Receipt Reference = its number, Status RECORDED or UNANNOUNCED."""
    body = message.read(read_crossing)
    if body.pre_arrival_number is not None:
        pre: PreArrivalState | None = _named_pre_arrival(ctx, body, body.pre_arrival_number)
    else:
        pre = _open_pre_arrival(ctx, body)
    listed = known_declarations(ctx, body.declaration_numbers, f"{_PATH}/DeclarationNumber")
    seen = {state.number for state in listed}
    crossed = list(listed)
    for linked in (pre.declaration_numbers if pre is not None else ()):
        state = ctx.uow.declarations.by_number(linked)
        if state is not None and state.number not in seen:
            seen.add(state.number)
            crossed.append(state)

    number = crossing_number(ctx.today.year, ctx.uow.next_number("crossing"))
    status = RECORDED if pre is not None else UNANNOUNCED
    post = {ctx.participant.id}
    ctx.uow.crossings.insert(
        body, number=number, post_id=ctx.participant.id, crossed_at=utc_text(body.crossed_at),
        crossing_date=local_date(body.crossed_at, gateway_zone(ctx.extras)),
        vehicle_key=vehicle_key(body.vehicle_registration),
        pre_arrival_id=pre.id if pre is not None else None, status=status,
        registered_at=ctx.received_at, message_pk=ctx.message_pk,
        declaration_numbers=tuple(state.number for state in crossed))
    if pre is None:
        record_status(ctx, kind=KIND, reference=number, status=status, parties=post,
                      note="No pre-arrival was announced for this vehicle.")
    else:
        record_status(ctx, kind=KIND, reference=number, status=status, parties=post,
                      note=f"Pre-arrival {pre.number}.")
        ctx.uow.pre_arrivals.set_status(pre.id, status=CROSSED, at=ctx.received_at)
        record_status(ctx, kind=PRE_ARRIVAL, reference=pre.number, status=CROSSED,
                      parties={pre.announcer_id}, note=f"Crossing {number}.")
    for state in crossed:
        why = _move(ctx, state, body, number)
        if why is not None:
            record_status(ctx, kind=KIND, reference=number, status=status, parties=post,
                          note=why)
    return Accepted(KIND, number, status)


def status_view(ctx: Context, reference: str) -> StatusView | None:
    """A crossing by number, for StatusRequest; party to it: the post that recorded it."""
    if not reference.startswith("AZ-BCR-"):
        return None
    crossing = ctx.uow.crossings.by_number(reference)
    if crossing is None:
        return None
    return StatusView(KIND, crossing.number, crossing.status, crossing.status_changed_at,
                      frozenset({crossing.post_id}))
