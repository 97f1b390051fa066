"""Initial schema: every table of adapters.tables, and the registration-number sequences.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Registration-number sequences (one row of `counters` each on SQLite).
SEQUENCES = (
    "declaration_number_seq",
    "pre_arrival_number_seq",
    "crossing_number_seq",
    "offense_number_seq",
)


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("certificate_number", sa.String(length=35), nullable=False),
        sa.Column("certificate_type", sa.String(length=16), nullable=False),
        sa.Column("issuer_id", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.String(length=40), nullable=False),
        sa.Column("issued_date", sa.String(length=10), nullable=False),
        sa.Column("valid_until", sa.String(length=10), nullable=False),
        sa.Column("consignee_tax_id", sa.String(length=10), nullable=False),
        sa.Column("origin_country", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_at", sa.String(length=32), nullable=False),
        sa.Column("status_changed_at", sa.String(length=32), nullable=False),
        sa.Column("revocation_reason", sa.String(length=512), nullable=True),
        sa.Column(
            "message_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("certificate_number", name=op.f("uq_certificates_certificate_number")),
    )
    op.create_index(
        op.f("ix_certificates_consignee_tax_id_certificate_type_status"),
        "certificates",
        ["consignee_tax_id", "certificate_type", "status"],
        unique=False,
    )
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "declarations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("declaration_number", sa.String(length=32), nullable=False),
        sa.Column("declarant_id", sa.String(length=32), nullable=False),
        sa.Column("lrn", sa.String(length=35), nullable=False),
        sa.Column("procedure_type", sa.String(length=2), nullable=False),
        sa.Column("customs_office", sa.String(length=32), nullable=False),
        sa.Column("consignor_name", sa.String(length=512), nullable=False),
        sa.Column("consignor_country", sa.String(length=2), nullable=False),
        sa.Column("consignee_name", sa.String(length=512), nullable=False),
        sa.Column("consignee_tax_id", sa.String(length=10), nullable=False),
        sa.Column("consignee_country", sa.String(length=2), nullable=False),
        sa.Column("transport_mode", sa.String(length=4), nullable=False),
        sa.Column("transport_identification", sa.String(length=512), nullable=False),
        sa.Column("transport_nationality", sa.String(length=2), nullable=False),
        sa.Column("border_crossing_point", sa.String(length=32), nullable=False),
        sa.Column("invoice_currency", sa.String(length=3), nullable=False),
        sa.Column("total_invoice_amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("risk_channel", sa.String(length=8), nullable=True),
        sa.Column("decision_rule", sa.String(length=128), nullable=True),
        sa.Column("registered_at", sa.String(length=32), nullable=False),
        sa.Column("registration_date", sa.String(length=10), nullable=False),
        sa.Column("status_changed_at", sa.String(length=32), nullable=False),
        sa.Column(
            "message_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declarations")),
        sa.UniqueConstraint("declarant_id", "lrn", name=op.f("uq_declarations_declarant_id_lrn")),
        sa.UniqueConstraint("declaration_number", name=op.f("uq_declarations_declaration_number")),
    )
    op.create_index(
        op.f("ix_declarations_consignee_tax_id"), "declarations", ["consignee_tax_id"], unique=False
    )
    op.create_index(
        op.f("ix_declarations_registration_date"),
        "declarations",
        ["registration_date"],
        unique=False,
    )
    op.create_index(op.f("ix_declarations_status"), "declarations", ["status"], unique=False)
    op.create_table(
        "messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("sender_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("message_type", sa.String(length=40), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.String(length=32), nullable=False),
        sa.Column("object_kind", sa.String(length=16), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "sender_id", "message_id", name=op.f("uq_messages_sender_id_message_id")
        ),
    )
    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("recipient_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=512), nullable=True),
        sa.Column("published", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("pulled", sa.SmallInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("recipient_id", "seq", name=op.f("uq_notifications_recipient_id_seq")),
    )
    op.create_index(
        op.f("ix_notifications_published_recipient_id_seq"),
        "notifications",
        ["published", "recipient_id", "seq"],
        unique=False,
    )
    op.create_table(
        "offenses",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("offense_number", sa.String(length=32), nullable=False),
        sa.Column("reporter_id", sa.String(length=32), nullable=False),
        sa.Column("offense_type", sa.String(length=20), nullable=False),
        sa.Column("detected_at", sa.String(length=32), nullable=False),
        sa.Column("customs_office", sa.String(length=32), nullable=False),
        sa.Column("declaration_number", sa.String(length=64), nullable=True),
        sa.Column("vehicle_registration", sa.String(length=16), nullable=True),
        sa.Column("description", sa.String(length=512), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("registered_at", sa.String(length=32), nullable=False),
        sa.Column("status_changed_at", sa.String(length=32), nullable=False),
        sa.Column(
            "message_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offenses")),
        sa.UniqueConstraint("offense_number", name=op.f("uq_offenses_offense_number")),
    )
    op.create_index(
        op.f("ix_offenses_declaration_number"), "offenses", ["declaration_number"], unique=False
    )
    op.create_table(
        "pre_arrivals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("pre_arrival_number", sa.String(length=32), nullable=False),
        sa.Column("announcer_id", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=5), nullable=False),
        sa.Column("border_crossing_point", sa.String(length=32), nullable=False),
        sa.Column("expected_at", sa.String(length=32), nullable=False),
        sa.Column("vehicle_registration", sa.String(length=16), nullable=False),
        sa.Column("vehicle_key", sa.String(length=16), nullable=False),
        sa.Column("trailer_registration", sa.String(length=16), nullable=True),
        sa.Column("vehicle_country", sa.String(length=2), nullable=False),
        sa.Column("driver_name", sa.String(length=512), nullable=False),
        sa.Column("driver_document", sa.String(length=35), nullable=False),
        sa.Column("transport_permit_number", sa.String(length=35), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("registered_at", sa.String(length=32), nullable=False),
        sa.Column("status_changed_at", sa.String(length=32), nullable=False),
        sa.Column(
            "message_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pre_arrivals")),
        sa.UniqueConstraint("pre_arrival_number", name=op.f("uq_pre_arrivals_pre_arrival_number")),
    )
    op.create_index(
        op.f("ix_pre_arrivals_vehicle_key_border_crossing_point_direction_status"),
        "pre_arrivals",
        ["vehicle_key", "border_crossing_point", "direction", "status"],
        unique=False,
    )
    op.create_table(
        "recipient_sequences",
        sa.Column("recipient_id", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("recipient_id", name=op.f("pk_recipient_sequences")),
    )
    op.create_table(
        "status_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("object_kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=512), nullable=True),
        sa.Column(
            "message_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_events")),
    )
    op.create_index(
        op.f("ix_status_events_object_kind_reference_id"),
        "status_events",
        ["object_kind", "reference", "id"],
        unique=False,
    )
    op.create_table(
        "certificate_goods",
        sa.Column(
            "certificate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("hs_code", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_goods_certificate_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("certificate_id", "position", name=op.f("pk_certificate_goods")),
    )
    op.create_table(
        "crossings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("crossing_number", sa.String(length=32), nullable=False),
        sa.Column("post_id", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=5), nullable=False),
        sa.Column("border_crossing_point", sa.String(length=32), nullable=False),
        sa.Column("crossed_at", sa.String(length=32), nullable=False),
        sa.Column("crossing_date", sa.String(length=10), nullable=False),
        sa.Column("vehicle_registration", sa.String(length=16), nullable=False),
        sa.Column("vehicle_key", sa.String(length=16), nullable=False),
        sa.Column(
            "pre_arrival_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("registered_at", sa.String(length=32), nullable=False),
        sa.Column("status_changed_at", sa.String(length=32), nullable=False),
        sa.Column(
            "message_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["pre_arrival_id"], ["pre_arrivals.id"], name=op.f("fk_crossings_pre_arrival_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossings")),
        sa.UniqueConstraint("crossing_number", name=op.f("uq_crossings_crossing_number")),
    )
    op.create_index(
        op.f("ix_crossings_crossing_date_border_crossing_point"),
        "crossings",
        ["crossing_date", "border_crossing_point"],
        unique=False,
    )
    op.create_table(
        "declaration_certificates",
        sa.Column(
            "declaration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("item_seq", sa.Integer(), nullable=False),
        sa.Column("certificate_type", sa.String(length=16), nullable=False),
        sa.Column("certificate_number", sa.String(length=35), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_declaration_certificates_declaration_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "declaration_id",
            "item_seq",
            "certificate_type",
            name=op.f("pk_declaration_certificates"),
        ),
    )
    op.create_index(
        op.f("ix_declaration_certificates_certificate_number"),
        "declaration_certificates",
        ["certificate_number"],
        unique=False,
    )
    op.create_table(
        "declaration_taxes",
        sa.Column(
            "declaration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tax_type", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_declaration_taxes_declaration_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("declaration_id", "position", name=op.f("pk_declaration_taxes")),
    )
    op.create_table(
        "declaration_waits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column(
            "declaration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("item_seq", sa.Integer(), nullable=False),
        sa.Column("certificate_type", sa.String(length=16), nullable=False),
        sa.Column("consignee_tax_id", sa.String(length=10), nullable=False),
        sa.Column("hs_heading", sa.String(length=4), nullable=False),
        sa.Column("certificate_number", sa.String(length=35), nullable=True),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_declaration_waits_declaration_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration_waits")),
    )
    op.create_index(
        op.f("ix_declaration_waits_certificate_number"),
        "declaration_waits",
        ["certificate_number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_declaration_waits_consignee_tax_id_certificate_type"),
        "declaration_waits",
        ["consignee_tax_id", "certificate_type"],
        unique=False,
    )
    op.create_index(
        op.f("ix_declaration_waits_declaration_id"),
        "declaration_waits",
        ["declaration_id"],
        unique=False,
    )
    op.create_table(
        "goods_items",
        sa.Column(
            "declaration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hs_code", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=512), nullable=False),
        sa.Column("origin_country", sa.String(length=2), nullable=False),
        sa.Column("gross_mass_g", sa.BigInteger(), nullable=False),
        sa.Column("net_mass_g", sa.BigInteger(), nullable=False),
        sa.Column("invoice_amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_goods_items_declaration_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("declaration_id", "seq", name=op.f("pk_goods_items")),
    )
    op.create_table(
        "item_documents",
        sa.Column(
            "declaration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("item_seq", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=35), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_item_documents_declaration_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "declaration_id", "item_seq", "position", name=op.f("pk_item_documents")
        ),
    )
    op.create_index(op.f("ix_item_documents_number"), "item_documents", ["number"], unique=False)
    op.create_table(
        "message_payloads",
        sa.Column(
            "message_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("received_at", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_pk"],
            ["messages.id"],
            name=op.f("fk_message_payloads_message_pk"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_pk", name=op.f("pk_message_payloads")),
    )
    op.create_index(
        op.f("ix_message_payloads_received_at"), "message_payloads", ["received_at"], unique=False
    )
    op.create_table(
        "pre_arrival_declarations",
        sa.Column(
            "pre_arrival_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("declaration_number", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["pre_arrival_id"],
            ["pre_arrivals.id"],
            name=op.f("fk_pre_arrival_declarations_pre_arrival_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "pre_arrival_id", "position", name=op.f("pk_pre_arrival_declarations")
        ),
    )
    op.create_table(
        "crossing_declarations",
        sa.Column(
            "crossing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("declaration_number", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["crossing_id"],
            ["crossings.id"],
            name=op.f("fk_crossing_declarations_crossing_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("crossing_id", "position", name=op.f("pk_crossing_declarations")),
    )
    if op.get_context().dialect.name == "sqlite":
        op.bulk_insert(counters, [{"name": name, "value": 0} for name in SEQUENCES])
    else:
        for name in SEQUENCES:
            op.execute(sa.schema.CreateSequence(sa.Sequence(name, start=1, cache=20)))


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        for name in SEQUENCES:
            op.execute(sa.schema.DropSequence(sa.Sequence(name)))
    op.drop_table("crossing_declarations")
    op.drop_table("pre_arrival_declarations")
    op.drop_index(op.f("ix_message_payloads_received_at"), table_name="message_payloads")
    op.drop_table("message_payloads")
    op.drop_index(op.f("ix_item_documents_number"), table_name="item_documents")
    op.drop_table("item_documents")
    op.drop_table("goods_items")
    op.drop_index(op.f("ix_declaration_waits_declaration_id"), table_name="declaration_waits")
    op.drop_index(
        op.f("ix_declaration_waits_consignee_tax_id_certificate_type"),
        table_name="declaration_waits",
    )
    op.drop_index(op.f("ix_declaration_waits_certificate_number"), table_name="declaration_waits")
    op.drop_table("declaration_waits")
    op.drop_table("declaration_taxes")
    op.drop_index(
        op.f("ix_declaration_certificates_certificate_number"),
        table_name="declaration_certificates",
    )
    op.drop_table("declaration_certificates")
    op.drop_index(op.f("ix_crossings_crossing_date_border_crossing_point"), table_name="crossings")
    op.drop_table("crossings")
    op.drop_table("certificate_goods")
    op.drop_index(op.f("ix_status_events_object_kind_reference_id"), table_name="status_events")
    op.drop_table("status_events")
    op.drop_table("recipient_sequences")
    op.drop_index(
        op.f("ix_pre_arrivals_vehicle_key_border_crossing_point_direction_status"),
        table_name="pre_arrivals",
    )
    op.drop_table("pre_arrivals")
    op.drop_index(op.f("ix_offenses_declaration_number"), table_name="offenses")
    op.drop_table("offenses")
    op.drop_index(op.f("ix_notifications_published_recipient_id_seq"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("messages")
    op.drop_index(op.f("ix_declarations_status"), table_name="declarations")
    op.drop_index(op.f("ix_declarations_registration_date"), table_name="declarations")
    op.drop_index(op.f("ix_declarations_consignee_tax_id"), table_name="declarations")
    op.drop_table("declarations")
    op.drop_table("counters")
    op.drop_index(
        op.f("ix_certificates_consignee_tax_id_certificate_type_status"), table_name="certificates"
    )
    op.drop_table("certificates")
