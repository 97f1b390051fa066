"""Electronic certificates with their goods lines."""

from __future__ import annotations

from itertools import groupby

import sqlalchemy as sa

from adapters.sql.session import Row, SqlSession
from adapters.sql.statements import insert_of
from adapters.tables.certificates import certificate_goods, certificates
from handlers.ports import CertificateState
from protocol.bodies.certificate import ElectronicCertificate

c = certificates.c
g = certificate_goods.c
_insert = insert_of(certificates)
_insert_goods = insert_of(certificate_goods)
_columns = (c.id, c.certificate_number, c.certificate_type, c.issuer_id, c.issued_date,
            c.valid_until, c.consignee_tax_id, c.status, c.status_changed_at)
_by_number = sa.select(*_columns).where(c.certificate_number == sa.bindparam("number"))
_goods_of = (sa.select(g.hs_code).where(g.certificate_id == sa.bindparam("id"))
             .order_by(g.position))
_candidates = (
    sa.select(*_columns, g.hs_code)
    .join(certificate_goods, g.certificate_id == c.id)
    .where(c.consignee_tax_id == sa.bindparam("tax_id"),
           c.certificate_type == sa.bindparam("cert_type"),
           c.status == sa.bindparam("status"))
    .order_by(c.id, g.position)
)
_set_status = (
    sa.update(certificates)
    .where(c.id == sa.bindparam("id"))
    .values(status=sa.bindparam("status"), status_changed_at=sa.bindparam("at"),
            revocation_reason=sa.func.coalesce(sa.bindparam("reason", type_=sa.String),
                                               c.revocation_reason))
)


def _state(row: Row, hs_codes: tuple[str, ...]) -> CertificateState:
    return CertificateState(
        id=int(row[0]), number=row[1], cert_type=row[2], issuer_id=row[3], issued_date=row[4],
        valid_until=row[5], consignee_tax_id=row[6], status=row[7], hs_codes=hs_codes,
        status_changed_at=row[8],
    )


class SqlCertificateRepository:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def insert(self, body: ElectronicCertificate, *, issuer_id: str, issued_date: str,
               status: str, registered_at: str, message_pk: int | None) -> int:
        cert_id = self.db.insert_id(_insert, {
            "certificate_number": body.number, "certificate_type": body.cert_type,
            "issuer_id": issuer_id, "issued_at": body.issued_at, "issued_date": issued_date,
            "valid_until": body.valid_until, "consignee_tax_id": body.consignee_tax_id,
            "origin_country": body.origin_country, "status": status,
            "registered_at": registered_at, "status_changed_at": registered_at,
            "revocation_reason": None, "message_pk": message_pk,
        })
        self.db.executemany(_insert_goods, [
            {"certificate_id": cert_id, "position": n, "hs_code": goods.hs_code,
             "description": goods.description}
            for n, goods in enumerate(body.goods, 1)
        ])
        return cert_id

    def by_number(self, number: str) -> CertificateState | None:
        row = self.db.fetchone(_by_number, {"number": number})
        if row is None:
            return None
        codes = tuple(r[0] for r in self.db.fetchall(_goods_of, {"id": row[0]}))
        return _state(row, codes)

    def candidates(self, consignee_tax_id: str, cert_type: str,
                   status: str) -> list[CertificateState]:
        rows = self.db.fetchall(_candidates, {"tax_id": consignee_tax_id,
                                              "cert_type": cert_type, "status": status})
        return [_state(group[0], tuple(r[-1] for r in group)) for group in _grouped(rows)]

    def set_status(self, certificate_id: int, *, status: str, at: str,
                   reason: str | None = None) -> None:
        self.db.execute(_set_status, {"id": certificate_id, "status": status, "at": at,
                                      "reason": reason})


def _grouped(rows: list[Row]) -> list[list[Row]]:
    """Rows of one certificate together (they come ordered by certificate id)."""
    return [list(group) for _, group in groupby(rows, key=lambda r: r[0])]
