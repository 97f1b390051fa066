"""VehiclePreArrival: a broker or carrier announces a vehicle (PROTOCOL §6).

The pre-arrival is registered as `AZ-PRE-<year>-<7 digits>` with status
ANNOUNCED and linked to the declarations it lists (each must be registered).
It stays ANNOUNCED until a BorderCrossing is matched to it (`handlers.crossing`),
which makes it CROSSED.
"""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.lifecycle import record_status
from handlers.lookup import StatusView
from handlers.outcomes import Accepted
from handlers.ports import DeclarationState
from handlers.times import utc_text
from protocol.bodies.transport import read_pre_arrival
from protocol.envelope import Message
from protocol.errors import BusinessRuleViolation, Detail

KIND = "PRE_ARRIVAL"
ANNOUNCED = "ANNOUNCED"
CROSSED = "CROSSED"

_NOT_LETTER_OR_DIGIT = re.compile(r"[^0-9A-Z]")


def pre_arrival_number(year: int, n: int) -> str:
    return f"AZ-PRE-{year}-{n:07d}"


def vehicle_key(registration: str) -> str:
    """What registrations are matched by: `ab 123-cd` and `AB123CD` are one vehicle."""
    return _NOT_LETTER_OR_DIGIT.sub("", registration.upper())


def known_declarations(ctx: Context, numbers: tuple[str, ...],
                       path: str) -> list[DeclarationState]:
    """The declarations behind `numbers` (duplicates dropped, order kept).

    Raises `BUSINESS_RULE` (rule DECLARATION_EXISTS) naming every number that is
    not registered; `path` is the element path of the listed numbers.
    """
    states: list[DeclarationState] = []
    missing: list[Detail] = []
    for position, number in enumerate(numbers, 1):
        if number in numbers[:position - 1]:
            continue
        state = ctx.uow.declarations.by_number(number)
        if state is None:
            missing.append(Detail(text="The declaration is not registered.",
                                  path=f"{path}[{position}]" if len(numbers) > 1 else path,
                                  rule="DECLARATION_EXISTS"))
        else:
            states.append(state)
    if missing:
        raise BusinessRuleViolation(missing)
    return states


def announce(ctx: Context, message: Message) -> Accepted:
    """Register a pre-arrival; Receipt Reference = its number, Status ANNOUNCED."""
    body = message.read(read_pre_arrival)
    known_declarations(ctx, body.declaration_numbers,
                       "/Envelope/Body/VehiclePreArrival/DeclarationNumber")
    number = pre_arrival_number(ctx.today.year, ctx.uow.next_number("pre_arrival"))
    ctx.uow.pre_arrivals.insert(
        body, number=number, announcer_id=ctx.participant.id,
        expected_at=utc_text(body.expected_at),
        vehicle_key=vehicle_key(body.vehicle_registration), status=ANNOUNCED,
        registered_at=ctx.received_at, message_pk=ctx.message_pk)
    record_status(ctx, kind=KIND, reference=number, status=ANNOUNCED,
                  parties={ctx.participant.id})
    return Accepted(KIND, number, ANNOUNCED)


def status_view(ctx: Context, reference: str) -> StatusView | None:
    """A pre-arrival by number, for StatusRequest; party to it: who announced it."""
    if not reference.startswith("AZ-PRE-"):
        return None
    pre = ctx.uow.pre_arrivals.by_number(reference)
    if pre is None:
        return None
    return StatusView(KIND, pre.number, pre.status, pre.status_changed_at,
                      frozenset({pre.announcer_id}))
