"""Pre-arrival notices and border crossings, with the declarations they list."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.sql.session import Row, SqlSession
from adapters.sql.statements import insert_of
from adapters.tables.transport import (
    crossing_declarations,
    crossings,
    pre_arrival_declarations,
    pre_arrivals,
)
from handlers.ports import CrossingState, PreArrivalState
from protocol.bodies.transport import BorderCrossing, VehiclePreArrival

p = pre_arrivals.c
c = crossings.c
_insert_pre_decl = insert_of(pre_arrival_declarations)
_insert_crossing_decl = insert_of(crossing_declarations)

_pre_columns = (p.id, p.pre_arrival_number, p.announcer_id, p.direction,
                p.border_crossing_point, p.expected_at, p.vehicle_key, p.status,
                p.status_changed_at)
_pre_by_number = sa.select(*_pre_columns).where(p.pre_arrival_number == sa.bindparam("number"))
_pre_with_status = (
    sa.select(*_pre_columns)
    .where(p.vehicle_key == sa.bindparam("vehicle_key"),
           p.border_crossing_point == sa.bindparam("point"),
           p.direction == sa.bindparam("direction"),
           p.status == sa.bindparam("status"))
    .order_by(p.id)
)
_pre_numbers = (
    sa.select(pre_arrival_declarations.c.declaration_number)
    .where(pre_arrival_declarations.c.pre_arrival_id == sa.bindparam("id"))
    .order_by(pre_arrival_declarations.c.position)
)
_pre_set_status = (
    sa.update(pre_arrivals)
    .where(p.id == sa.bindparam("id"))
    .values(status=sa.bindparam("status"), status_changed_at=sa.bindparam("at"))
)
_crossing_by_number = sa.select(
    c.id, c.crossing_number, c.post_id, c.status, c.status_changed_at,
).where(c.crossing_number == sa.bindparam("number"))


class SqlPreArrivalRepository:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def insert(self, body: VehiclePreArrival, *, number: str, announcer_id: str,
               expected_at: str, vehicle_key: str, status: str, registered_at: str,
               message_pk: int | None) -> int:
        row = {
            "pre_arrival_number": number, "announcer_id": announcer_id,
            "direction": body.direction, "border_crossing_point": body.border_crossing_point,
            "expected_at": expected_at, "vehicle_registration": body.vehicle_registration,
            "vehicle_key": vehicle_key, "trailer_registration": body.trailer_registration,
            "vehicle_country": body.vehicle_country, "driver_name": body.driver_name,
            "driver_document": body.driver_document,
            "transport_permit_number": body.transport_permit_number, "status": status,
            "registered_at": registered_at, "status_changed_at": registered_at,
            "message_pk": message_pk,
        }
        pk = self.db.add_row(pre_arrivals, row)  # its number, drawn from the store, is unique
        numbers = list(dict.fromkeys(body.declaration_numbers))
        self.db.defer(_insert_pre_decl, [
            {"pre_arrival_id": pk, "position": n, "declaration_number": number}
            for n, number in enumerate(numbers, 1)
        ])
        return pk

    def by_number(self, number: str) -> PreArrivalState | None:
        row = self.db.fetchone(_pre_by_number, {"number": number})
        return self._state(row) if row is not None else None

    def with_status(self, *, vehicle_key: str, border_crossing_point: str, direction: str,
                    status: str) -> list[PreArrivalState]:
        rows = self.db.fetchall(_pre_with_status, {
            "vehicle_key": vehicle_key, "point": border_crossing_point,
            "direction": direction, "status": status,
        })
        return [self._state(row) for row in rows]

    def set_status(self, pre_arrival_id: int, *, status: str, at: str) -> None:
        self.db.execute(_pre_set_status, {"id": pre_arrival_id, "status": status, "at": at})

    def _state(self, row: Row) -> PreArrivalState:
        numbers = tuple(str(r[0]) for r in self.db.fetchall(_pre_numbers, {"id": row[0]}))
        (pk, number, announcer, direction, point, expected_at, key, status, changed) = row
        return PreArrivalState(int(pk), number, announcer, direction, point, expected_at, key,
                               status, changed, numbers)


class SqlCrossingRepository:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def insert(self, body: BorderCrossing, *, number: str, post_id: str, crossed_at: str,
               crossing_date: str, vehicle_key: str, pre_arrival_id: int | None, status: str,
               registered_at: str, message_pk: int | None,
               declaration_numbers: tuple[str, ...]) -> int:
        pk = self.db.add_row(crossings, {  # its number, drawn from the store, is unique
            "crossing_number": number, "post_id": post_id, "direction": body.direction,
            "border_crossing_point": body.border_crossing_point, "crossed_at": crossed_at,
            "crossing_date": crossing_date, "vehicle_registration": body.vehicle_registration,
            "vehicle_key": vehicle_key, "pre_arrival_id": pre_arrival_id, "status": status,
            "registered_at": registered_at, "status_changed_at": registered_at,
            "message_pk": message_pk,
        })
        self.db.defer(_insert_crossing_decl, [
            {"crossing_id": pk, "position": n, "declaration_number": number}
            for n, number in enumerate(declaration_numbers, 1)
        ])
        return pk

    def by_number(self, number: str) -> CrossingState | None:
        row = self.db.fetchone(_crossing_by_number, {"number": number})
        return CrossingState(int(row[0]), *row[1:]) if row is not None else None
