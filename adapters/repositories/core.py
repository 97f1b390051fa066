"""Message log and status history."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.sql.session import SqlSession, insert_of
from adapters.tables.core import message_payloads, messages, status_events
from handlers.ports import PriorMessage, StatusEvent

_find_message = sa.select(
    messages.c.body_digest, messages.c.object_kind, messages.c.reference
).where(messages.c.sender_id == sa.bindparam("sender_id"),
        messages.c.message_id == sa.bindparam("message_id"))
_insert_message = insert_of(messages)
_insert_payload = insert_of(message_payloads)
_link_message = (
    sa.update(messages)
    .where(messages.c.id == sa.bindparam("pk"))
    .values(object_kind=sa.bindparam("object_kind"), reference=sa.bindparam("reference"))
)

_insert_event = insert_of(status_events)
_history = (
    sa.select(status_events.c.at, status_events.c.status, status_events.c.note)
    .where(status_events.c.object_kind == sa.bindparam("kind"),
           status_events.c.reference == sa.bindparam("reference"))
    .order_by(status_events.c.id)
)
_latest = (
    sa.select(status_events.c.status)
    .where(status_events.c.object_kind == sa.bindparam("kind"),
           status_events.c.reference == sa.bindparam("reference"))
    .order_by(status_events.c.id.desc())
    .limit(1)
)


class SqlMessageLog:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def find(self, sender_id: str, message_id: str) -> PriorMessage | None:
        row = self.db.fetchone(_find_message, {"sender_id": sender_id, "message_id": message_id})
        return PriorMessage(*row) if row is not None else None

    def record(self, *, sender_id: str, message_id: str, message_type: str, body_digest: str,
               received_at: str, object_kind: str | None, reference: str | None,
               payload: bytes) -> int:
        pk = self.db.insert_id(_insert_message, {
            "sender_id": sender_id, "message_id": message_id, "message_type": message_type,
            "body_digest": body_digest, "received_at": received_at,
            "object_kind": object_kind, "reference": reference,
        })
        self.db.defer(_insert_payload,
                      [{"message_pk": pk, "received_at": received_at, "payload": payload}])
        return pk

    def link(self, message_pk: int, object_kind: str | None, reference: str) -> None:
        self.db.execute(_link_message,
                        {"pk": message_pk, "object_kind": object_kind, "reference": reference})


class SqlEventLog:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def append(self, *, object_kind: str, reference: str, status: str, at: str,
               note: str | None = None, message_pk: int | None = None) -> None:
        self.db.defer(_insert_event, [{
            "object_kind": object_kind, "reference": reference, "status": status, "at": at,
            "note": note, "message_pk": message_pk,
        }])

    def history(self, object_kind: str, reference: str) -> list[StatusEvent]:
        rows = self.db.fetchall(_history, {"kind": object_kind, "reference": reference})
        return [StatusEvent(*r) for r in rows]

    def latest_status(self, object_kind: str, reference: str) -> str | None:
        value = self.db.scalar(_latest, {"kind": object_kind, "reference": reference})
        return None if value is None else str(value)
