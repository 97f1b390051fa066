"""The shared MetaData and column helpers."""

from __future__ import annotations

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite rowid aliases need INTEGER


def pk_column(name: str = "id") -> sa.Column[int]:
    return sa.Column(name, ID, sa.Identity(), primary_key=True)


def timestamp(name: str, nullable: bool = False) -> sa.Column[str]:
    """A UTC instant as ISO-8601 text with microseconds and Z."""
    return sa.Column(name, sa.String(32), nullable=nullable)


def calendar_date(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(10), nullable=nullable)


def participant_id(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(32), nullable=nullable)


def text(name: str, length: int = 512, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def minor_units(name: str, nullable: bool = False) -> sa.Column[int]:
    """Money in cents (amounts have at most two fraction digits)."""
    return sa.Column(name, sa.BigInteger, nullable=nullable)
