"""Offense reports."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.sql.session import SqlSession
from adapters.tables.enforcement import offenses
from handlers.ports import OffenseState
from protocol.bodies.enforcement import OffenseReport

o = offenses.c
_by_number = sa.select(
    o.id, o.offense_number, o.reporter_id, o.status, o.status_changed_at,
).where(o.offense_number == sa.bindparam("number"))


class SqlOffenseRepository:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def insert(self, body: OffenseReport, *, number: str, reporter_id: str, detected_at: str,
               status: str, registered_at: str, message_pk: int | None) -> int:
        return self.db.add_row(offenses, {  # its number, drawn from the store, is unique
            "offense_number": number, "reporter_id": reporter_id,
            "offense_type": body.offense_type, "detected_at": detected_at,
            "customs_office": body.customs_office,
            "declaration_number": body.declaration_number,
            "vehicle_registration": body.vehicle_registration,
            "description": body.description, "status": status,
            "registered_at": registered_at, "status_changed_at": registered_at,
            "message_pk": message_pk,
        })

    def by_number(self, number: str) -> OffenseState | None:
        row = self.db.fetchone(_by_number, {"number": number})
        return OffenseState(int(row[0]), *row[1:]) if row is not None else None
