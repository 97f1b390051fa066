"""The outbox: notifications written in the transaction of the status change."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.sql.session import SqlSession, insert_of
from adapters.tables.outbox import notifications, recipient_sequences

_bump = (
    sa.update(recipient_sequences)
    .where(recipient_sequences.c.recipient_id == sa.bindparam("recipient_id"))
    .values(last_seq=recipient_sequences.c.last_seq + sa.literal_column("1"))
)
_current = sa.select(recipient_sequences.c.last_seq).where(
    recipient_sequences.c.recipient_id == sa.bindparam("recipient_id"))
_first = insert_of(recipient_sequences)
_insert = insert_of(notifications, ["recipient_id", "seq", "at", "reference", "kind", "status",
                                    "note", "published", "pulled"])


class SqlOutbox:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def add(self, *, recipient_id: str, at: str, reference: str, kind: str, status: str,
            note: str | None = None) -> int:
        """Queue one notification; returns its per-recipient sequence number."""
        params = {"recipient_id": recipient_id}
        if self.db.execute(_bump, params) == 1:
            seq = int(self.db.scalar(_current, params))
        else:
            seq = 1
            self.db.execute(_first, {"recipient_id": recipient_id, "last_seq": seq})
        self.db.execute(_insert, {
            "recipient_id": recipient_id, "seq": seq, "at": at, "reference": reference,
            "kind": kind, "status": status, "note": note, "published": 0, "pulled": 0,
        })
        return seq
