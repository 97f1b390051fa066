"""StatusRequest → StatusResponse: an object's status and history, for those party to it."""

from __future__ import annotations

from handlers.context import Context
from handlers.declaration import KIND as DECLARATION
from handlers.outcomes import Answer
from handlers.ports import DeclarationState
from handlers.visibility import can_see, parties_of_declaration
from protocol.answers import EventView, status_response_body
from protocol.bodies.status import read_status_request
from protocol.envelope import Message
from protocol.errors import NotFound


def _visible_declaration(ctx: Context, state: DeclarationState | None) -> DeclarationState:
    if state is None:
        raise NotFound()
    parties = parties_of_declaration(state.declarant_id, state.consignee_tax_id, ctx.registry)
    if not can_see(ctx.participant, parties):
        raise NotFound()
    return state


def answer(ctx: Context, message: Message) -> Answer:
    request = read_status_request(message.body)
    repo = ctx.uow.declarations
    if request.reference is not None:
        state = _visible_declaration(ctx, repo.by_number(request.reference))
    else:
        assert request.local_reference_number is not None
        state = _visible_declaration(
            ctx, repo.by_lrn(ctx.participant.id, request.local_reference_number))
    events = ctx.uow.events.history(DECLARATION, state.number)
    body = status_response_body(
        reference=state.number, kind=DECLARATION, status=state.status,
        last_changed_at=state.status_changed_at,
        events=[EventView(e.at, e.status, e.note) for e in events],
    )
    return Answer("StatusResponse", body)
