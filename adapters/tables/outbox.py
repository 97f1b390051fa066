"""The transactional outbox: one row per status notification per recipient.

`seq` is per recipient, gap-free, allocated from `recipient_sequences` inside
the transaction that made the status change (ARCHITECTURE invariant 7).
"""

from __future__ import annotations

import sqlalchemy as sa

from adapters.tables.base import metadata, participant_id, pk_column, text, timestamp

notifications = sa.Table(
    "notifications",
    metadata,
    pk_column(),
    participant_id("recipient_id"),
    sa.Column("seq", sa.BigInteger, nullable=False),
    timestamp("at"),
    sa.Column("reference", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    text("note", nullable=True),
    # 0 = not yet acknowledged by the MQTT broker (PUBACK), 1 = published
    sa.Column("published", sa.SmallInteger, nullable=False, server_default="0"),
    # 0 = not yet acknowledged by a puller (AckUpTo), 1 = pulled and acknowledged
    sa.Column("pulled", sa.SmallInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("recipient_id", "seq"),
    sa.Index(None, "published", "recipient_id", "seq"),
)

recipient_sequences = sa.Table(
    "recipient_sequences",
    metadata,
    sa.Column("recipient_id", sa.String(32), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)
