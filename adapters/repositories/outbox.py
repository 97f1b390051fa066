"""The outbox: notifications written in the transaction of the status change, pulled by
participants (`SqlOutbox`) and published to MQTT (`SqlOutboxRelay`).

Sequence numbers. A recipient's last Seq is its `recipient_sequences` row,
allocated per transaction (`adapters.sql.allocations`): the first notification
of the transaction for a recipient reads that row with `SELECT … FOR UPDATE`,
the following ones count on in memory, and the row is written back once before
COMMIT. On PostgreSQL and Oracle the locking read holds the recipient until the
status change commits, so a recipient's numbers are allocated and committed in
order across nodes (the next node reads what this one committed), and every
reader sees a gap-free prefix of them; a message that fails gives its numbers
back (savepoint), so they stay gap-free within the batch too. A recipient's
first notification ever INSERTs that row at once; two nodes racing there make
one INSERT fail with `StoreConflict`, and the writer retries the message once
(the retry finds the row). On SQLite the writer's `BEGIN IMMEDIATE` serializes
all of it.

Claiming (publisher side). A relay owns a recipient's stream while it holds the
row lock on that recipient's *lowest unpublished* notification (its head):
`SELECT … FOR UPDATE SKIP LOCKED` over the next `limit` unpublished rows,
accepted only if the first row locked is the head. Another node then reads the
same head, finds it locked and skips the recipient, so two nodes never
interleave one stream; the row locks are held until `end_round` commits the
`published` marks. The writer never waits for a relay (status changes insert
new rows), except a pull acknowledging rows that are being published right now,
for one publish round at most. SQLite has no row locks (the FOR UPDATE clause
compiles to nothing there): one process per database file publishes, holding a
file lock (see `gateway.publisher`), and it reads outside any transaction so
that it never holds SQLite's write lock while waiting for the broker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from adapters.sql.allocations import CounterTable
from adapters.sql.session import Row, SqlSession
from adapters.sql.statements import insert_of
from adapters.tables.outbox import notifications, recipient_sequences
from handlers.ports import Notification

_n = notifications.c

#: Each recipient's last Seq (one row per recipient that was ever notified).
SEQS = CounterTable(recipient_sequences, key="recipient_id", value="last_seq")
_insert = insert_of(notifications, ["recipient_id", "seq", "at", "reference", "kind", "status",
                                    "note", "published", "pulled"])

_FIELDS = (_n.seq, _n.at, _n.reference, _n.kind, _n.status, _n.note)

_acknowledge = (
    sa.update(notifications)
    .where(_n.recipient_id == sa.bindparam("recipient_id"),
           _n.seq <= sa.bindparam("up_to"), _n.pulled == 0)
    .values(pulled=1)
)
_unacknowledged = (
    sa.select(*_FIELDS)
    .where(_n.recipient_id == sa.bindparam("recipient_id"), _n.pulled == 0,
           _n.seq > sa.bindparam("after"))
    .order_by(_n.seq)
    .limit(sa.bindparam("limit"))
)

_backlog_recipients = (
    sa.select(_n.recipient_id).distinct()
    .where(_n.published == 0, _n.recipient_id > sa.bindparam("after"))
    .order_by(_n.recipient_id)
    .limit(sa.bindparam("limit"))
)
_head = sa.select(sa.func.min(_n.seq)).where(
    _n.recipient_id == sa.bindparam("recipient_id"), _n.published == 0)
_claim = (
    sa.select(*_FIELDS)
    .where(_n.recipient_id == sa.bindparam("recipient_id"), _n.published == 0,
           _n.seq >= sa.bindparam("lo"), _n.seq < sa.bindparam("hi"))
    .order_by(_n.seq)
    .with_for_update(skip_locked=True)
)
_mark_published = (
    sa.update(notifications)
    .where(_n.recipient_id == sa.bindparam("recipient_id"), _n.published == 0,
           _n.seq >= sa.bindparam("lo"), _n.seq <= sa.bindparam("hi"))
    .values(published=1)
)
_backlog = sa.select(sa.func.count()).select_from(notifications).where(_n.published == 0)


def _notification(row: Row) -> Notification:
    seq, at, reference, kind, status, note = row
    return Notification(int(seq), at, reference, kind, status, note)


class SqlOutbox:
    """The `handlers.ports.Outbox` port inside the writer's transaction."""

    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def add(self, *, recipient_id: str, at: str, reference: str, kind: str, status: str,
            note: str | None = None) -> int:
        """Queue one notification; returns its per-recipient sequence number."""
        [seq] = self.db.allocate(SEQS, [recipient_id])
        self.db.defer(_insert, [{
            "recipient_id": recipient_id, "seq": seq, "at": at, "reference": reference,
            "kind": kind, "status": status, "note": note, "published": 0, "pulled": 0,
        }])
        return seq

    def add_for(self, recipient_ids: list[str], *, at: str, reference: str, kind: str,
                status: str, note: str | None = None) -> None:
        """The same notification for several recipients: one Seq each, one batched INSERT."""
        seqs = self.db.allocate(SEQS, recipient_ids)
        self.db.defer(_insert, [
            {"recipient_id": rid, "seq": seq, "at": at, "reference": reference,
             "kind": kind, "status": status, "note": note, "published": 0, "pulled": 0}
            for rid, seq in zip(recipient_ids, seqs, strict=True)
        ])

    def lock_stream(self, recipient_id: str) -> int:
        """Row-lock the recipient's sequence (until commit); its last Seq, 0 if none."""
        return self.db.allocated(SEQS, recipient_id)

    def acknowledge(self, recipient_id: str, up_to: int) -> int:
        """Mark Seq <= up_to as pulled; returns the number of rows newly marked."""
        return self.db.execute(_acknowledge, {"recipient_id": recipient_id, "up_to": up_to})

    def unacknowledged(self, recipient_id: str, after: int, limit: int) -> list[Notification]:
        """Not-yet-pulled notifications with Seq > after, increasing, at most `limit`."""
        rows = self.db.fetchall(_unacknowledged,
                                {"recipient_id": recipient_id, "after": after, "limit": limit})
        return [_notification(r) for r in rows]


@dataclass(frozen=True, slots=True)
class Claim:
    """A recipient's next unpublished notifications, owned by this relay until `end_round`."""

    recipient_id: str
    notifications: list[Notification]

    @property
    def first_seq(self) -> int:
        return self.notifications[0].seq


@dataclass(frozen=True, slots=True)
class Published:
    """Seq range lo..hi of one recipient acknowledged by the broker."""

    recipient_id: str
    lo: int
    hi: int


class SqlOutboxRelay:
    """The publisher's side of the outbox, on the publisher's own session (never the writer's).

    One round: `begin_round`, `recipients_with_backlog`, `claim` per recipient,
    then `end_round` with what the broker acknowledged (commits the marks and
    releases the claims) or `abandon_round` (releases them, marks nothing).
    """

    def __init__(self, db: SqlSession) -> None:
        self.db = db
        #: PostgreSQL and Oracle claim with row locks inside a transaction; SQLite cannot.
        self.row_locks = db.dialect_name != "sqlite"
        self._open = False

    def begin_round(self) -> None:
        if self.row_locks and not self._open:
            self.db.begin()
            self._open = True

    def recipients_with_backlog(self, after: str, limit: int) -> list[str]:
        """Recipients with unpublished notifications, ordered by id, after `after`."""
        rows = self.db.fetchall(_backlog_recipients, {"after": after, "limit": limit})
        return [r[0] for r in rows]

    def claim(self, recipient_id: str, limit: int) -> Claim | None:
        """Take the recipient's stream from its head, at most `limit` rows; None if not ours."""
        head = self.db.scalar(_head, {"recipient_id": recipient_id})
        if head is None:
            return None
        head = int(head)
        rows = self.db.fetchall(_claim, {"recipient_id": recipient_id, "lo": head,
                                         "hi": head + limit})
        if not rows or int(rows[0][0]) != head:
            return None  # another node holds the head (or published it meanwhile)
        taken: list[Notification] = []
        for row in rows:  # the contiguous run from the head; rows after a gap are not ours
            n = _notification(row)
            if n.seq != head + len(taken):
                break
            taken.append(n)
        return Claim(recipient_id, taken)

    def end_round(self, published: Sequence[Published]) -> int:
        """Mark what the broker acknowledged and commit; returns the number of rows marked."""
        if not published:
            self.abandon_round()
            return 0
        if not self._open:
            self.db.begin()  # SQLite: the write lock only for the marks themselves
            self._open = True
        marked = 0
        try:
            for p in published:
                marked += self.db.execute(_mark_published, {"recipient_id": p.recipient_id,
                                                            "lo": p.lo, "hi": p.hi})
            self.db.commit()
        except BaseException:
            self.abandon_round()
            raise
        self._open = False
        return marked

    def abandon_round(self) -> None:
        """Release every claim of this round without marking anything."""
        if self._open:
            self._open = False
            self.db.rollback()

    def backlog(self) -> int:
        """How many notifications await the broker's acknowledgement (all recipients)."""
        self.begin_round()
        try:
            return int(self.db.scalar(_backlog))
        finally:
            self.abandon_round()
