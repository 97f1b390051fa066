"""Offense reports."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.tables.base import ID, metadata, participant_id, pk_column, text, timestamp

offenses = sa.Table(
    "offenses",
    metadata,
    pk_column(),
    sa.Column("offense_number", sa.String(32), nullable=False, unique=True),
    participant_id("reporter_id"),
    sa.Column("offense_type", sa.String(20), nullable=False),
    timestamp("detected_at"),
    sa.Column("customs_office", sa.String(32), nullable=False),
    sa.Column("declaration_number", sa.String(64), nullable=True),
    sa.Column("vehicle_registration", sa.String(16), nullable=True),
    text("description"),
    sa.Column("status", sa.String(32), nullable=False),
    timestamp("registered_at"),
    timestamp("status_changed_at"),
    sa.Column("message_pk", ID, nullable=True),
    sa.Index(None, "declaration_number"),
)
