"""Messages (idempotency), payloads, the status history and counters."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.tables.base import ID, metadata, participant_id, pk_column, text, timestamp

#: One row per accepted command message. (sender_id, message_id) is the idempotency key.
messages = sa.Table(
    "messages",
    metadata,
    pk_column(),
    participant_id("sender_id"),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("message_type", sa.String(40), nullable=False),
    sa.Column("body_digest", sa.String(64), nullable=False),
    timestamp("received_at"),
    sa.Column("object_kind", sa.String(16), nullable=True),
    sa.Column("reference", sa.String(64), nullable=True),
    sa.UniqueConstraint("sender_id", "message_id"),
)

#: The received envelope, kept apart so that the hot `messages` rows stay small
#: and retention can purge payloads without touching decisions.
message_payloads = sa.Table(
    "message_payloads",
    metadata,
    sa.Column("message_pk", ID, sa.ForeignKey("messages.id", ondelete="CASCADE"),
              primary_key=True),
    timestamp("received_at"),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Index(None, "received_at"),  # retention purges by age in small batches
)

#: Append-only history of every status change of every object.
status_events = sa.Table(
    "status_events",
    metadata,
    pk_column(),
    sa.Column("object_kind", sa.String(16), nullable=False),
    sa.Column("reference", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    timestamp("at"),
    text("note", nullable=True),
    sa.Column("message_pk", ID, nullable=True),
    sa.Index(None, "object_kind", "reference", "id"),
)

#: SQLite has no sequences: one row per sequence name stands in for them.
counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

#: Sequences behind registration numbers (PostgreSQL and Oracle; `counters` on SQLite).
SEQUENCES: dict[str, sa.Sequence] = {
    kind: sa.Sequence(f"{kind}_number_seq", metadata=metadata, start=1, cache=20)
    for kind in ("declaration", "pre_arrival", "crossing", "offense")
}
