"""StatusRequest → StatusResponse: an object's status and history, for those party to it.

By Reference, each kind of object finds itself through its entry in
`BY_REFERENCE` (tried in order; the first object the asker may see answers).
By LocalReferenceNumber, the asker's own declaration. What the asker may not
see is answered exactly like what does not exist (NOT_FOUND).
"""

from __future__ import annotations

from handlers import certificate, crossing, enforcement, transport
from handlers.context import Context
from handlers.declaration import KIND as DECLARATION
from handlers.lookup import Lookup, StatusView
from handlers.outcomes import Answer
from handlers.ports import DeclarationState
from handlers.visibility import can_see, parties_of_declaration
from protocol.answers import EventView, status_response_body
from protocol.bodies.status import read_status_request
from protocol.envelope import Message
from protocol.errors import NotFound


def _declaration_view(ctx: Context, state: DeclarationState | None) -> StatusView | None:
    if state is None:
        return None
    parties = parties_of_declaration(state.declarant_id, state.consignee_tax_id, ctx.registry)
    return StatusView(DECLARATION, state.number, state.status, state.status_changed_at,
                      frozenset(parties))


def _declaration_by_number(ctx: Context, reference: str) -> StatusView | None:
    return _declaration_view(ctx, ctx.uow.declarations.by_number(reference))


#: Kind → how to find an object of that kind by its number; tried in this order.
BY_REFERENCE: dict[str, Lookup] = {
    DECLARATION: _declaration_by_number,
    certificate.KIND: certificate.status_view,
    transport.KIND: transport.status_view,
    crossing.KIND: crossing.status_view,
    enforcement.KIND: enforcement.status_view,
}


def _visible(ctx: Context, view: StatusView | None) -> bool:
    return view is not None and can_see(ctx.participant, set(view.parties))


def _by_reference(ctx: Context, reference: str) -> StatusView:
    for lookup in BY_REFERENCE.values():
        view = lookup(ctx, reference)
        if view is not None and _visible(ctx, view):
            return view
    raise NotFound()


def answer(ctx: Context, message: Message) -> Answer:
    request = message.read(read_status_request)
    if request.reference is not None:
        view = _by_reference(ctx, request.reference)
    else:
        assert request.local_reference_number is not None
        found = _declaration_view(ctx, ctx.uow.declarations.by_lrn(
            ctx.participant.id, request.local_reference_number))
        if found is None or not _visible(ctx, found):
            raise NotFound()
        view = found
    events = ctx.uow.events.history(view.kind, view.reference)
    body = status_response_body(
        reference=view.reference, kind=view.kind, status=view.status,
        last_changed_at=view.last_changed_at,
        events=[EventView(e.at, e.status, e.note) for e in events],
    )
    return Answer("StatusResponse", body)
