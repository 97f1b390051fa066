"""Clearance locks: one row per consignee, serializing declarations and certificates for it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clearance_locks",
        sa.Column("consignee_tax_id", sa.String(length=10), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consignee_tax_id", name=op.f("pk_clearance_locks")),
    )


def downgrade() -> None:
    op.drop_table("clearance_locks")
