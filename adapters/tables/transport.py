"""Vehicle movements: pre-arrival notices, border crossings and the declarations they carry."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.tables.base import (
    ID,
    calendar_date,
    metadata,
    participant_id,
    pk_column,
    text,
    timestamp,
)

#: One row per VehiclePreArrival. `vehicle_key` is the registration reduced to upper-case
#: letters and digits, the key crossings are matched by.
pre_arrivals = sa.Table(
    "pre_arrivals",
    metadata,
    pk_column(),
    sa.Column("pre_arrival_number", sa.String(32), nullable=False, unique=True),
    participant_id("announcer_id"),
    sa.Column("direction", sa.String(5), nullable=False),
    sa.Column("border_crossing_point", sa.String(32), nullable=False),
    timestamp("expected_at"),
    sa.Column("vehicle_registration", sa.String(16), nullable=False),
    sa.Column("vehicle_key", sa.String(16), nullable=False),
    sa.Column("trailer_registration", sa.String(16), nullable=True),
    sa.Column("vehicle_country", sa.String(2), nullable=False),
    text("driver_name"),
    sa.Column("driver_document", sa.String(35), nullable=False),
    sa.Column("transport_permit_number", sa.String(35), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    timestamp("registered_at"),
    timestamp("status_changed_at"),
    sa.Column("message_pk", ID, nullable=True),
    sa.Index(None, "vehicle_key", "border_crossing_point", "direction", "status"),
)

pre_arrival_declarations = sa.Table(
    "pre_arrival_declarations",
    metadata,
    sa.Column("pre_arrival_id", ID, sa.ForeignKey("pre_arrivals.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("declaration_number", sa.String(64), nullable=False),
)

#: One row per BorderCrossing. `crossing_date` is CrossedAt's calendar date in the
#: gateway's time zone (what the TRAFFIC report groups by).
crossings = sa.Table(
    "crossings",
    metadata,
    pk_column(),
    sa.Column("crossing_number", sa.String(32), nullable=False, unique=True),
    participant_id("post_id"),
    sa.Column("direction", sa.String(5), nullable=False),
    sa.Column("border_crossing_point", sa.String(32), nullable=False),
    timestamp("crossed_at"),
    calendar_date("crossing_date"),
    sa.Column("vehicle_registration", sa.String(16), nullable=False),
    sa.Column("vehicle_key", sa.String(16), nullable=False),
    sa.Column("pre_arrival_id", ID, sa.ForeignKey("pre_arrivals.id"), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    timestamp("registered_at"),
    timestamp("status_changed_at"),
    sa.Column("message_pk", ID, nullable=True),
    sa.Index(None, "crossing_date", "border_crossing_point"),
)

crossing_declarations = sa.Table(
    "crossing_declarations",
    metadata,
    sa.Column("crossing_id", ID, sa.ForeignKey("crossings.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("declaration_number", sa.String(64), nullable=False),
)
