"""Every status change goes through `record_status`: one event row, and one outbox
notification for each participant party to the object (PROTOCOL §7), in the
same transaction as the change itself."""

from __future__ import annotations

from handlers.context import Context
from handlers.visibility import recipients


def record_status(ctx: Context, *, kind: str, reference: str, status: str,
                  parties: set[str], note: str | None = None) -> None:
    ctx.uow.events.append(object_kind=kind, reference=reference, status=status,
                          at=ctx.received_at, note=note, message_pk=ctx.message_pk)
    ctx.uow.outbox.add_for(sorted(recipients(parties, ctx.registry)), at=ctx.received_at,
                           reference=reference, kind=kind, status=status, note=note)
