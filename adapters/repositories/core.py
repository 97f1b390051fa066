"""Message log and status history."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.sql import prefetch
from adapters.sql.session import SqlSession
from adapters.sql.statements import insert_of, inserts
from adapters.tables.core import message_payloads, messages, status_events
from handlers.ports import PriorMessage, StatusEvent

_find_message = sa.select(
    messages.c.body_digest, messages.c.object_kind, messages.c.reference
).where(messages.c.sender_id == sa.bindparam("sender_id"),
        messages.c.message_id == sa.bindparam("message_id"))
_PRIOR_COLUMNS = (messages.c.sender_id, messages.c.message_id, messages.c.body_digest,
                  messages.c.object_kind, messages.c.reference)
_insert_message, _insert_message_with_id = inserts(messages)
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
    """The message log inside the writer's transaction.

    Two savings on the group-commit path, both invisible to handlers:
    - `prefetch` reads the log for a whole batch's keys in one query; `find` answers
      those keys from memory until this transaction records one of them (then it asks
      the store again, which sees that row).
    - Where the session may choose keys (`SqlSession.new_id`), `record` queues the row
      for the batch's bulk insert, and `link` fills in what the message registered while
      the row is still queued: one row written once instead of an INSERT and an UPDATE.
    """

    def __init__(self, db: SqlSession) -> None:
        self.db = db
        self._known: dict[tuple[str, str], PriorMessage | None] = {}
        #: rows queued for the bulk insert, with the session's flush count at queueing
        self._queued: dict[int, tuple[dict[str, object], int]] = {}
        self._queued_keys: set[tuple[str, str]] = set()

    def prefetch(self, keys: Sequence[tuple[str, str]]) -> None:
        """Read what `find` will answer for these (sender_id, message_id) keys, at once."""
        for chunk in prefetch.chunks([k for k in keys if k not in self._known]):
            stmt, params = prefetch.lookup(_PRIOR_COLUMNS, messages.c.sender_id,
                                           messages.c.message_id, chunk)
            found = {(r[0], r[1]): PriorMessage(r[2], r[3], r[4])
                     for r in self.db.fetchall(stmt, params)}
            for key in chunk:
                self._known[key] = found.get(key)

    def find(self, sender_id: str, message_id: str) -> PriorMessage | None:
        key = (sender_id, message_id)
        if key in self._known:
            return self._known[key]
        row = self.db.fetchone(_find_message, {"sender_id": sender_id, "message_id": message_id})
        return PriorMessage(*row) if row is not None else None

    def forget_prefetched(self) -> None:
        """Ask the store again from now on (another node may have written meanwhile)."""
        self._known.clear()

    def record(self, *, sender_id: str, message_id: str, message_type: str, body_digest: str,
               received_at: str, object_kind: str | None, reference: str | None,
               payload: bytes) -> int:
        self._known.pop((sender_id, message_id), None)
        row: dict[str, object] = {
            "sender_id": sender_id, "message_id": message_id, "message_type": message_type,
            "body_digest": body_digest, "received_at": received_at,
            "object_kind": object_kind, "reference": reference,
        }
        pk = self.db.new_id(messages)
        if pk is None:
            pk = self.db.insert_id(_insert_message, row)
        else:
            row["id"] = pk
            self.db.defer(_insert_message_with_id, [row])
            self._queued[pk] = (row, self.db.flushes)
            key = (sender_id, message_id)
            if key in self._queued_keys:
                # The key was queued before in this transaction (callers look with `find`
                # first, so only a caller that did not gets here): write now, so that the
                # duplicate fails in this message, as an immediate INSERT would.
                self.db.flush()
            self._queued_keys.add(key)
        self.db.defer(_insert_payload,
                      [{"message_pk": pk, "received_at": received_at, "payload": payload}])
        return pk

    def link(self, message_pk: int, object_kind: str | None, reference: str | None) -> None:
        queued = self._queued.pop(message_pk, None)
        if reference is None:
            return
        if queued is not None and queued[1] == self.db.flushes:  # not written yet
            queued[0]["object_kind"], queued[0]["reference"] = object_kind, reference
            return
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
