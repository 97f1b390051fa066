"""Report aggregates (ReportRequest), computed by the store with GROUP BY.

Each report exists as two statements, with and without the customs-office
filter, so that no statement needs an `:office IS NULL` test (an untyped NULL
parameter that PostgreSQL and Oracle handle differently). Constants are
literal SQL, parameters are bound by name; every statement is portable Core.
"""

from __future__ import annotations

import sqlalchemy as sa

from adapters.sql.session import SqlSession
from adapters.tables.declarations import declaration_taxes, declarations
from adapters.tables.transport import crossings
from handlers.ports import FinancialRow, ForeignExchangeRow, ReportPeriod, TrafficRow

d = declarations.c
t = declaration_taxes.c
c = crossings.c
_ZERO: sa.ColumnElement[int] = sa.literal_column("0")
_ONE: sa.ColumnElement[int] = sa.literal_column("1")


def _declarations_in_period(stmt: sa.Select[tuple[object, ...]],
                            by_office: bool) -> sa.Select[tuple[object, ...]]:
    stmt = stmt.where(d.registration_date >= sa.bindparam("date_from"),
                      d.registration_date <= sa.bindparam("date_to"),
                      d.status != sa.bindparam("excluded_status"))
    if by_office:
        stmt = stmt.where(d.customs_office == sa.bindparam("office"))
    return stmt


def _financial(by_office: bool) -> sa.Select[tuple[object, ...]]:
    amount = sa.func.sum(sa.case((t.currency == sa.bindparam("currency"), t.amount),
                                 else_=_ZERO))
    stmt = sa.select(d.customs_office, t.tax_type, sa.func.count(sa.distinct(d.id)), amount)
    stmt = stmt.select_from(declarations.join(declaration_taxes,
                                              t.declaration_id == d.id))
    return (_declarations_in_period(stmt, by_office)
            .group_by(d.customs_office, t.tax_type)
            .order_by(d.customs_office, t.tax_type))


def _foreign_exchange(by_office: bool) -> sa.Select[tuple[object, ...]]:
    stmt = sa.select(d.invoice_currency, sa.func.count(d.id),
                     sa.func.sum(d.total_invoice_amount))
    return (_declarations_in_period(stmt, by_office)
            .group_by(d.invoice_currency)
            .order_by(d.invoice_currency))


def _traffic(by_point: bool) -> sa.Select[tuple[object, ...]]:
    announced = sa.func.sum(sa.case((c.pre_arrival_id.is_not(None), _ONE), else_=_ZERO))
    stmt = (sa.select(c.border_crossing_point, c.direction, sa.func.count(c.id), announced)
            .where(c.crossing_date >= sa.bindparam("date_from"),
                   c.crossing_date <= sa.bindparam("date_to")))
    if by_point:
        stmt = stmt.where(c.border_crossing_point == sa.bindparam("office"))
    return (stmt.group_by(c.border_crossing_point, c.direction)
            .order_by(c.border_crossing_point, c.direction))


#: (statement without the office filter, statement with it)
FINANCIAL = (_financial(False), _financial(True))
FOREIGN_EXCHANGE = (_foreign_exchange(False), _foreign_exchange(True))
TRAFFIC = (_traffic(False), _traffic(True))


def _params(period: ReportPeriod, **extra: str) -> tuple[int, dict[str, str]]:
    params = {"date_from": period.date_from, "date_to": period.date_to, **extra}
    if period.customs_office is None:
        return 0, params
    params["office"] = period.customs_office
    return 1, params


class SqlReportQueries:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def financial(self, period: ReportPeriod, *, currency: str,
                  excluded_status: str) -> list[FinancialRow]:
        which, params = _params(period, currency=currency, excluded_status=excluded_status)
        rows = self.db.fetchall(FINANCIAL[which], params)
        return [FinancialRow(str(o), str(tt), int(n), int(a or 0)) for o, tt, n, a in rows]

    def foreign_exchange(self, period: ReportPeriod, *,
                         excluded_status: str) -> list[ForeignExchangeRow]:
        which, params = _params(period, excluded_status=excluded_status)
        rows = self.db.fetchall(FOREIGN_EXCHANGE[which], params)
        return [ForeignExchangeRow(str(cur), int(n), int(a or 0)) for cur, n, a in rows]

    def traffic(self, period: ReportPeriod) -> list[TrafficRow]:
        which, params = _params(period)
        rows = self.db.fetchall(TRAFFIC[which], params)
        return [TrafficRow(str(p), str(dr), int(n), int(a or 0)) for p, dr, n, a in rows]
