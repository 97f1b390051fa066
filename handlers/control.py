"""ControlDecision (customs only, PROTOCOL §6, §8): a declaration UNDER_CONTROL is
RELEASED or REJECTED. Any other state is a BUSINESS_RULE rejection."""

from __future__ import annotations

from handlers.context import Context
from handlers.declaration import KIND, UNDER_CONTROL, transition
from handlers.outcomes import Accepted
from protocol.bodies.declaration import read_control_decision
from protocol.envelope import Message
from protocol.errors import NotFound, rule_violation

MAX_NOTE = 512


def decide(ctx: Context, message: Message) -> Accepted:
    body = message.read(read_control_decision)
    state = ctx.uow.declarations.by_number(body.declaration_number)
    if state is None:
        raise NotFound()
    if state.status != UNDER_CONTROL:
        raise rule_violation("DECLARATION_UNDER_CONTROL",
                             f"Declaration {state.number} is {state.status}, not "
                             f"{UNDER_CONTROL}.")
    note = f"control decision by {body.officer}"
    if body.note:
        note = f"{note}: {body.note}"
    if len(note) > MAX_NOTE:
        note = note[:MAX_NOTE - 3] + "..."
    transition(ctx, state, body.decision, note)
    return Accepted(KIND, state.number, body.decision)
