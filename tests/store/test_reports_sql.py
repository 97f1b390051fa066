"""The report aggregates (adapters/repositories/reports.py) on every backend, against the
same rows summed in Python; and the SQL they compile to for PostgreSQL and Oracle."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import oracle, postgresql

from adapters.repositories.reports import FINANCIAL, FOREIGN_EXCHANGE, TRAFFIC
from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.sql.statements import compile_sql
from adapters.store import Store
from handlers.ports import FinancialRow, ForeignExchangeRow, ReportPeriod, TrafficRow
from protocol.bodies.declaration import CustomsDeclaration, GoodsItem, Tax
from protocol.bodies.transport import BorderCrossing, VehiclePreArrival
from tests.store.test_conformance import AT, in_transaction

DAYS = ("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-31", "2027-01-01")
OFFICES = ("BAKU-MAIN", "GAZAKH-01")
POINTS = ("RED-BRIDGE", "SAMUR")
STATUSES = ("RELEASED", "UNDER_CONTROL", "REJECTED", "ARRIVED")
ITEM = GoodsItem(1, "847130", "Laptops", "CN", 1000, 900, 100, ())
TEMPLATE = CustomsDeclaration(
    procedure_type="IM", lrn="", customs_office="", declarant_id="BRK-0001",
    consignor_name="Seller", consignor_country="TR", consignee_name="Buyer",
    consignee_tax_id="1234567890", consignee_country="AZ", transport_mode="ROAD",
    transport_identification="34 ABC 123", transport_nationality="TR",
    border_crossing_point="RED-BRIDGE", invoice_currency="USD", total_invoice_amount=0,
    items=(ITEM,), taxes=())


def _seed(store: Store) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rng = random.Random(42)
    declarations: list[dict[str, object]] = []
    crossings: list[dict[str, object]] = []

    def work(uow: SqlUnitOfWork) -> None:
        for n in range(40):
            taxes = tuple(Tax(rng.choice(("DUTY", "VAT", "EXCISE")), rng.randrange(0, 10**9),
                              rng.choice(("AZN", "USD"))) for _ in range(rng.randrange(0, 4)))
            body = replace(TEMPLATE, lrn=f"LRN-{n}", customs_office=rng.choice(OFFICES),
                           invoice_currency=rng.choice(("USD", "EUR", "AZN")),
                           total_invoice_amount=rng.randrange(0, 10**12), taxes=taxes)
            status, day = rng.choice(STATUSES), rng.choice(DAYS)
            uow.declarations.insert(body, number=f"AZ-DEC-2026-{n:07d}", status=status,
                                    registered_at=AT, registration_date=day, message_pk=None)
            declarations.append({"body": body, "status": status, "day": day})
        for n in range(30):
            point, direction, day = rng.choice(POINTS), rng.choice(("ENTRY", "EXIT")), \
                rng.choice(DAYS)
            pre_id = None
            if rng.random() < 0.6:
                pre = VehiclePreArrival(direction, point, AT, f"V{n}", None, "GE", "D", "X",
                                        None, ())
                pre_id = uow.pre_arrivals.insert(pre, number=f"AZ-PRE-2026-{n:07d}",
                                                 announcer_id="BRK-0001", expected_at=AT,
                                                 vehicle_key=f"V{n}", status="CROSSED",
                                                 registered_at=AT, message_pk=None)
            body = BorderCrossing(direction, point, AT, f"V{n}", None, ())
            uow.crossings.insert(body, number=f"AZ-BCR-2026-{n:07d}", post_id="BCP-0001",
                                 crossed_at=AT, crossing_date=day, vehicle_key=f"V{n}",
                                 pre_arrival_id=pre_id, status="RECORDED", registered_at=AT,
                                 message_pk=None, declaration_numbers=())
            crossings.append({"point": point, "direction": direction, "day": day,
                              "announced": pre_id is not None})

    in_transaction(store, work)
    return declarations, crossings


def _counted(d: dict[str, object], period: ReportPeriod) -> bool:
    body = d["body"]
    assert isinstance(body, CustomsDeclaration)
    return (d["status"] != "REJECTED" and period.date_from <= str(d["day"]) <= period.date_to
            and period.customs_office in (None, body.customs_office))


def test_report_queries_match_python(store: Store) -> None:
    declarations, crossings = _seed(store)
    periods = [ReportPeriod(a, b, o) for a, b in (("2026-12-01", "2026-12-31"),
                                                  ("2026-11-01", "2027-12-31"),
                                                  ("2026-12-02", "2026-12-02"))
               for o in (None, *OFFICES, *POINTS)]
    for period in periods:
        fin_count: dict[tuple[str, str], set[int]] = defaultdict(set)
        fin_sum: dict[tuple[str, str], int] = defaultdict(int)
        fx_count: dict[str, int] = defaultdict(int)
        fx_sum: dict[str, int] = defaultdict(int)
        for n, d in enumerate(declarations):
            body = d["body"]
            assert isinstance(body, CustomsDeclaration)
            if not _counted(d, period):
                continue
            fx_count[body.invoice_currency] += 1
            fx_sum[body.invoice_currency] += body.total_invoice_amount
            for tax in body.taxes:
                key = (body.customs_office, tax.tax_type)
                fin_count[key].add(n)
                fin_sum[key] += tax.amount if tax.currency == "AZN" else 0
        traffic: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for c in crossings:
            if (period.date_from <= str(c["day"]) <= period.date_to
                    and period.customs_office in (None, c["point"])):
                counts = traffic[(str(c["point"]), str(c["direction"]))]
                counts[0] += 1
                counts[1] += int(bool(c["announced"]))

        def run(uow: SqlUnitOfWork, period: ReportPeriod = period) -> tuple[list, list, list]:
            return (uow.reports.financial(period, currency="AZN", excluded_status="REJECTED"),
                    uow.reports.foreign_exchange(period, excluded_status="REJECTED"),
                    uow.reports.traffic(period))

        financial, foreign_exchange, by_point = in_transaction(store, run)
        assert financial == [FinancialRow(o, t, len(fin_count[(o, t)]), fin_sum[(o, t)])
                             for o, t in sorted(fin_count)]
        assert foreign_exchange == [ForeignExchangeRow(c, fx_count[c], fx_sum[c])
                                    for c in sorted(fx_count)]
        assert by_point == [TrafficRow(p, d, *traffic[(p, d)]) for p, d in sorted(traffic)]


@pytest.mark.parametrize("dialect", [postgresql.psycopg.dialect(), oracle.dialect()],
                         ids=["postgresql", "oracle"])
@pytest.mark.parametrize("stmt", [*FINANCIAL, *FOREIGN_EXCHANGE, *TRAFFIC])
def test_report_sql_compiles_with_named_parameters(dialect: sa.engine.Dialect,
                                                   stmt: sa.Select[tuple[object, ...]]) -> None:
    compiled = compile_sql(stmt, dialect)
    text = compiled.text.upper()
    assert "GROUP BY" in text and "ORDER BY" in text
    assert "COUNT(" in text and "SUM(" in text
    assert not compiled.constants  # every constant is literal SQL, every value a parameter
