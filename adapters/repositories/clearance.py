"""What the single-window decision reads and keeps about declarations: their facts,
the certificates they wait for and the certificates they rely on."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.errors import StoreConflict
from adapters.sql.session import SqlSession
from adapters.sql.statements import insert_of
from adapters.tables.certificates import (
    clearance_locks,
    declaration_certificates,
    declaration_waits,
)
from adapters.tables.declarations import declarations, goods_items, item_documents
from handlers.ports import CertificateLink, CertificateWait, DeclarationFacts, ItemFacts

d = declarations.c
gi = goods_items.c
doc = item_documents.c
w = declaration_waits.c
link = declaration_certificates.c

_declaration = sa.select(
    d.id, d.declaration_number, d.declarant_id, d.procedure_type, d.customs_office,
    d.consignee_tax_id, d.invoice_currency, d.total_invoice_amount, d.registration_date, d.status,
).where(d.id == sa.bindparam("id"))
_items = (sa.select(gi.seq, gi.hs_code, gi.origin_country, gi.invoice_amount)
          .where(gi.declaration_id == sa.bindparam("id")).order_by(gi.seq))
_documents = (sa.select(doc.item_seq, doc.doc_type, doc.number)
              .where(doc.declaration_id == sa.bindparam("id"))
              .order_by(doc.item_seq, doc.position))

_bump_lock = (
    sa.update(clearance_locks)
    .where(clearance_locks.c.consignee_tax_id == sa.bindparam("tax_id"))
    .values(version=clearance_locks.c.version + sa.literal_column("1"))
)
_first_lock = insert_of(clearance_locks)
_LOCK_SAVEPOINT = "consignee_lock"

_delete_waits = sa.delete(declaration_waits).where(w.declaration_id == sa.bindparam("id"))
_insert_wait = insert_of(declaration_waits)
_waiting_for_number = (sa.select(w.declaration_id).distinct()
                       .where(w.certificate_number == sa.bindparam("number")))
_waiting_for_any = (sa.select(w.declaration_id).distinct()
                    .where(w.consignee_tax_id == sa.bindparam("tax_id"),
                           w.certificate_type == sa.bindparam("cert_type"),
                           w.certificate_number.is_(None)))

_delete_links = sa.delete(declaration_certificates).where(
    link.declaration_id == sa.bindparam("id"))
_insert_link = insert_of(declaration_certificates)
_relying_on = (sa.select(link.declaration_id).distinct()
               .where(link.certificate_number == sa.bindparam("number")))


class SqlClearanceRepository:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def lock_consignee(self, consignee_tax_id: str) -> None:
        # The UPDATE takes the row lock. The consignee's first INSERT waits for another
        # node's racing INSERT and then fails on the primary key: that row is then there.
        params = {"tax_id": consignee_tax_id}
        if self.db.execute(_bump_lock, params) == 1:
            return
        self.db.savepoint(_LOCK_SAVEPOINT)
        try:
            self.db.execute(_first_lock, {"consignee_tax_id": consignee_tax_id, "version": 1})
        except StoreConflict:
            self.db.rollback_to(_LOCK_SAVEPOINT)
            self.db.release(_LOCK_SAVEPOINT)
            self.db.execute(_bump_lock, params)
            return
        self.db.release(_LOCK_SAVEPOINT)

    def facts(self, declaration_id: int) -> DeclarationFacts | None:
        params = {"id": declaration_id}
        row = self.db.fetchone(_declaration, params)
        if row is None:
            return None
        documents: dict[int, list[tuple[str, str]]] = {}
        for seq, doc_type, number in self.db.fetchall(_documents, params):
            documents.setdefault(int(seq), []).append((doc_type, number))
        items = tuple(
            ItemFacts(seq=int(seq), hs_code=hs, origin_country=origin,
                      invoice_amount=int(amount), documents=tuple(documents.get(int(seq), ())))
            for seq, hs, origin, amount in self.db.fetchall(_items, params)
        )
        return DeclarationFacts(
            id=int(row[0]), number=row[1], declarant_id=row[2], procedure_type=row[3],
            customs_office=row[4], consignee_tax_id=row[5], invoice_currency=row[6],
            total_invoice_amount=int(row[7]), registration_date=row[8], status=row[9],
            items=items,
        )

    def set_waits(self, declaration_id: int, waits: list[CertificateWait]) -> None:
        self.db.execute(_delete_waits, {"id": declaration_id})
        self.db.executemany(_insert_wait, [
            {"declaration_id": declaration_id, "item_seq": wait.item_seq,
             "certificate_type": wait.cert_type, "consignee_tax_id": wait.consignee_tax_id,
             "hs_heading": wait.hs_heading, "certificate_number": wait.certificate_number}
            for wait in waits
        ])

    def set_links(self, declaration_id: int, links: list[CertificateLink]) -> None:
        self.db.execute(_delete_links, {"id": declaration_id})
        self.db.executemany(_insert_link, [
            {"declaration_id": declaration_id, "item_seq": one.item_seq,
             "certificate_type": one.cert_type, "certificate_number": one.certificate_number}
            for one in links
        ])

    def waiting_for(self, number: str, consignee_tax_id: str, cert_type: str) -> list[int]:
        ids = {int(r[0]) for r in self.db.fetchall(_waiting_for_number, {"number": number})}
        ids.update(int(r[0]) for r in self.db.fetchall(
            _waiting_for_any, {"tax_id": consignee_tax_id, "cert_type": cert_type}))
        return sorted(ids)

    def relying_on(self, number: str) -> list[int]:
        return sorted(int(r[0]) for r in self.db.fetchall(_relying_on, {"number": number}))
