"""Electronic certificates, and what the single-window decision keeps about them:
which declarations wait for a certificate and which rely on one (PROTOCOL §8)."""

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

certificates = sa.Table(
    "certificates",
    metadata,
    pk_column(),
    sa.Column("certificate_number", sa.String(35), nullable=False, unique=True),
    sa.Column("certificate_type", sa.String(16), nullable=False),
    participant_id("issuer_id"),
    sa.Column("issued_at", sa.String(40), nullable=False),  # as sent, with its zone
    calendar_date("issued_date"),  # IssuedAt's date in the gateway's time zone
    calendar_date("valid_until"),
    sa.Column("consignee_tax_id", sa.String(10), nullable=False),
    sa.Column("origin_country", sa.String(2), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    timestamp("registered_at"),
    timestamp("status_changed_at"),
    text("revocation_reason", nullable=True),
    sa.Column("message_pk", ID, nullable=True),
    # the Single Window's own search for a counting certificate
    sa.Index(None, "consignee_tax_id", "certificate_type", "status"),
)

certificate_goods = sa.Table(
    "certificate_goods",
    metadata,
    sa.Column("certificate_id", ID, sa.ForeignKey("certificates.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("hs_code", sa.String(10), nullable=False),
    text("description"),
)

#: One row per required certificate a waiting declaration has not got yet. Rows exist only
#: while the declaration is AWAITING_CERTIFICATES, so an arriving certificate finds the
#: declarations it may release through these two indexes, never by scanning declarations.
declaration_waits = sa.Table(
    "declaration_waits",
    metadata,
    pk_column(),
    sa.Column("declaration_id", ID, sa.ForeignKey("declarations.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("item_seq", sa.Integer, nullable=False),
    sa.Column("certificate_type", sa.String(16), nullable=False),
    sa.Column("consignee_tax_id", sa.String(10), nullable=False),
    sa.Column("hs_heading", sa.String(4), nullable=False),
    # the referenced number; NULL = any counting certificate will do
    sa.Column("certificate_number", sa.String(35), nullable=True),
    sa.Index(None, "certificate_number"),
    sa.Index(None, "consignee_tax_id", "certificate_type"),
    sa.Index(None, "declaration_id"),
)

#: Which certificate satisfied which required type of which goods item.
declaration_certificates = sa.Table(
    "declaration_certificates",
    metadata,
    sa.Column("declaration_id", ID, sa.ForeignKey("declarations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("item_seq", sa.Integer, primary_key=True),
    sa.Column("certificate_type", sa.String(16), primary_key=True),
    sa.Column("certificate_number", sa.String(35), nullable=False),
    sa.Index(None, "certificate_number"),
)


#: One row per consignee tax id that certificates or waiting declarations concern. Lodging a
#: declaration that needs certificates, registering and revoking a certificate all update the
#: consignee's row first, so that on PostgreSQL and Oracle (READ COMMITTED, several nodes) a
#: declaration and a certificate for the same consignee are decided one after the other: a
#: certificate never misses a declaration that starts waiting for it at the same moment.
clearance_locks = sa.Table(
    "clearance_locks",
    metadata,
    sa.Column("consignee_tax_id", sa.String(10), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

__all__ = ["certificate_goods", "certificates", "clearance_locks", "declaration_certificates",
           "declaration_waits"]
