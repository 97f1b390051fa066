"""Declarations with their goods items, documents and taxes."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from adapters.sql import prefetch
from adapters.sql.session import SqlSession
from adapters.sql.statements import insert_of, inserts
from adapters.tables.declarations import (
    declaration_taxes,
    declarations,
    goods_items,
    item_documents,
)
from handlers.ports import DeclarationState
from protocol.bodies.declaration import CustomsDeclaration

d = declarations.c
_insert, _insert_with_id = inserts(declarations)
_insert_item = insert_of(goods_items)
_insert_document = insert_of(item_documents)
_insert_tax = insert_of(declaration_taxes)
_state_columns = (d.id, d.declaration_number, d.declarant_id, d.lrn, d.procedure_type,
                  d.customs_office, d.consignee_tax_id, d.status, d.risk_channel,
                  d.registration_date, d.status_changed_at)
_by_number = sa.select(*_state_columns).where(d.declaration_number == sa.bindparam("number"))
_by_lrn = sa.select(*_state_columns).where(d.declarant_id == sa.bindparam("declarant_id"),
                                           d.lrn == sa.bindparam("lrn"))
_set_status = (
    sa.update(declarations)
    .where(d.id == sa.bindparam("id"))
    .values(status=sa.bindparam("status"), status_changed_at=sa.bindparam("at"),
            risk_channel=sa.func.coalesce(sa.bindparam("risk_channel", type_=sa.String),
                                          d.risk_channel),
            decision_rule=sa.func.coalesce(sa.bindparam("decision_rule", type_=sa.String),
                                           d.decision_rule))
)


class SqlDeclarationRepository:
    """Declarations inside the writer's transaction. As `SqlMessageLog` does for messages,
    `prefetch_lrns` reads a batch's (declarant, LRN) keys in one query, and where the
    session may choose keys the declaration row joins the batch's bulk inserts."""

    def __init__(self, db: SqlSession) -> None:
        self.db = db
        self._lrns: dict[tuple[str, str], DeclarationState | None] = {}
        self._queued_keys: set[tuple[str, str]] = set()

    def prefetch_lrns(self, keys: Sequence[tuple[str, str]]) -> None:
        """Read what `by_lrn` will answer for these (declarant_id, lrn) keys, at once."""
        for chunk in prefetch.chunks([k for k in keys if k not in self._lrns]):
            stmt, params = prefetch.lookup(_state_columns, d.declarant_id, d.lrn, chunk)
            found = {(r[2], r[3]): DeclarationState(*r) for r in self.db.fetchall(stmt, params)}
            for key in chunk:
                self._lrns[key] = found.get(key)

    def forget_prefetched(self) -> None:
        self._lrns.clear()

    def insert(self, body: CustomsDeclaration, *, number: str, status: str, registered_at: str,
               registration_date: str, message_pk: int | None,
               risk_channel: str | None = None, decision_rule: str | None = None) -> int:
        self._lrns.pop((body.declarant_id, body.lrn), None)
        row = {
            "declaration_number": number, "declarant_id": body.declarant_id, "lrn": body.lrn,
            "procedure_type": body.procedure_type, "customs_office": body.customs_office,
            "consignor_name": body.consignor_name, "consignor_country": body.consignor_country,
            "consignee_name": body.consignee_name, "consignee_tax_id": body.consignee_tax_id,
            "consignee_country": body.consignee_country, "transport_mode": body.transport_mode,
            "transport_identification": body.transport_identification,
            "transport_nationality": body.transport_nationality,
            "border_crossing_point": body.border_crossing_point,
            "invoice_currency": body.invoice_currency,
            "total_invoice_amount": body.total_invoice_amount,
            "status": status, "risk_channel": risk_channel, "decision_rule": decision_rule,
            "registered_at": registered_at, "registration_date": registration_date,
            "status_changed_at": registered_at, "message_pk": message_pk,
        }
        decl_id = self.db.new_id(declarations)
        if decl_id is None:
            decl_id = self.db.insert_id(_insert, row)
        else:
            self.db.defer(_insert_with_id, [{"id": decl_id, **row}])
            key = (body.declarant_id, body.lrn)
            if key in self._queued_keys:  # see SqlMessageLog.record: fail in this message
                self.db.flush()
            self._queued_keys.add(key)
        self.db.defer(_insert_item, [
            {"declaration_id": decl_id, "seq": i.seq, "hs_code": i.hs_code,
             "description": i.description, "origin_country": i.origin_country,
             "gross_mass_g": i.gross_mass_g, "net_mass_g": i.net_mass_g,
             "invoice_amount": i.invoice_amount}
            for i in body.items
        ])
        self.db.defer(_insert_document, [
            {"declaration_id": decl_id, "item_seq": i.seq, "position": n,
             "doc_type": doc.doc_type, "number": doc.number}
            for i in body.items for n, doc in enumerate(i.documents, 1)
        ])
        self.db.defer(_insert_tax, [
            {"declaration_id": decl_id, "position": n, "tax_type": t.tax_type,
             "amount": t.amount, "currency": t.currency}
            for n, t in enumerate(body.taxes, 1)
        ])
        return decl_id

    def by_number(self, number: str) -> DeclarationState | None:
        row = self.db.fetchone(_by_number, {"number": number})
        return DeclarationState(*row) if row is not None else None

    def by_lrn(self, declarant_id: str, lrn: str) -> DeclarationState | None:
        key = (declarant_id, lrn)
        if key in self._lrns:
            return self._lrns[key]
        row = self.db.fetchone(_by_lrn, {"declarant_id": declarant_id, "lrn": lrn})
        return DeclarationState(*row) if row is not None else None

    def set_status(self, declaration_id: int, *, status: str, at: str,
                   risk_channel: str | None = None, decision_rule: str | None = None) -> None:
        self.db.execute(_set_status, {"id": declaration_id, "status": status, "at": at,
                                      "risk_channel": risk_channel,
                                      "decision_rule": decision_rule})
