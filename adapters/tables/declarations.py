"""Customs declarations, their goods items, referenced documents and taxes."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.tables.base import (
    ID,
    calendar_date,
    metadata,
    minor_units,
    participant_id,
    pk_column,
    text,
    timestamp,
)

declarations = sa.Table(
    "declarations",
    metadata,
    pk_column(),
    sa.Column("declaration_number", sa.String(32), nullable=False, unique=True),
    participant_id("declarant_id"),
    sa.Column("lrn", sa.String(35), nullable=False),
    sa.Column("procedure_type", sa.String(2), nullable=False),
    sa.Column("customs_office", sa.String(32), nullable=False),
    text("consignor_name"),
    sa.Column("consignor_country", sa.String(2), nullable=False),
    text("consignee_name"),
    sa.Column("consignee_tax_id", sa.String(10), nullable=False),
    sa.Column("consignee_country", sa.String(2), nullable=False),
    sa.Column("transport_mode", sa.String(4), nullable=False),
    text("transport_identification"),
    sa.Column("transport_nationality", sa.String(2), nullable=False),
    sa.Column("border_crossing_point", sa.String(32), nullable=False),
    sa.Column("invoice_currency", sa.String(3), nullable=False),
    minor_units("total_invoice_amount"),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("risk_channel", sa.String(8), nullable=True),
    text("decision_rule", 128, nullable=True),
    timestamp("registered_at"),
    calendar_date("registration_date"),
    timestamp("status_changed_at"),
    sa.Column("message_pk", ID, nullable=True),
    sa.UniqueConstraint("declarant_id", "lrn"),
    sa.Index(None, "consignee_tax_id"),
    sa.Index(None, "status"),
    sa.Index(None, "registration_date"),
)

goods_items = sa.Table(
    "goods_items",
    metadata,
    sa.Column("declaration_id", ID, sa.ForeignKey("declarations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("hs_code", sa.String(10), nullable=False),
    text("description"),
    sa.Column("origin_country", sa.String(2), nullable=False),
    sa.Column("gross_mass_g", sa.BigInteger, nullable=False),
    sa.Column("net_mass_g", sa.BigInteger, nullable=False),
    minor_units("invoice_amount"),
)

item_documents = sa.Table(
    "item_documents",
    metadata,
    sa.Column("declaration_id", ID, sa.ForeignKey("declarations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("item_seq", sa.Integer, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("doc_type", sa.String(20), nullable=False),
    sa.Column("number", sa.String(35), nullable=False),
    sa.Index(None, "number"),
)

declaration_taxes = sa.Table(
    "declaration_taxes",
    metadata,
    sa.Column("declaration_id", ID, sa.ForeignKey("declarations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("tax_type", sa.String(8), nullable=False),
    minor_units("amount"),
    sa.Column("currency", sa.String(3), nullable=False),
)
