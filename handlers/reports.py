"""ReportRequest → ReportResponse (PROTOCOL §6): aggregates computed by the store.

- FINANCIAL, per customs office and tax type: `Declarations` = declarations
  with at least one tax line of that type (in any currency); `Amount` = the sum
  of those tax lines whose Currency is AZN. Other currencies are not converted
  (the Single Window keeps no exchange rates), so a row may count declarations
  whose Amount is 0.00.
- FOREIGN_EXCHANGE, per invoice currency (AZN included): declarations and the
  sum of their TotalInvoiceAmount, in that currency.
  Both count declarations whose registration date (gateway time zone) lies in
  From..To, except REJECTED ones (no goods moved, nothing is due), optionally
  of one CustomsOffice.
- TRAFFIC, per border crossing point and direction: `Vehicles` = crossings whose
  CrossedAt falls on a date From..To (gateway time zone), `Announced` = those
  matched to a pre-arrival. CustomsOffice, when given, selects the border
  crossing point with that id.
From after To is a `BUSINESS_RULE` (REPORT_PERIOD).
"""

from __future__ import annotations

from collections.abc import Callable

from handlers.context import Context
from handlers.outcomes import Answer
from handlers.ports import ReportPeriod
from protocol.answers import (
    FinancialRowView,
    ForeignExchangeRowView,
    ReportRowView,
    TrafficRowView,
    report_response_body,
)
from protocol.bodies.report import ReportRequest, read_report_request
from protocol.envelope import Message
from protocol.errors import rule_violation

REPORT_CURRENCY = "AZN"
EXCLUDED_STATUS = "REJECTED"
MAX_ROWS = 10_000  # report.xsd bounds Row


def _financial(ctx: Context, period: ReportPeriod) -> list[ReportRowView]:
    rows = ctx.uow.reports.financial(period, currency=REPORT_CURRENCY,
                                     excluded_status=EXCLUDED_STATUS)
    return [FinancialRowView(r.customs_office, r.tax_type, r.declarations, r.amount)
            for r in rows]


def _foreign_exchange(ctx: Context, period: ReportPeriod) -> list[ReportRowView]:
    rows = ctx.uow.reports.foreign_exchange(period, excluded_status=EXCLUDED_STATUS)
    return [ForeignExchangeRowView(r.currency, r.declarations, r.invoice_amount) for r in rows]


def _traffic(ctx: Context, period: ReportPeriod) -> list[ReportRowView]:
    return [TrafficRowView(r.border_crossing_point, r.direction, r.vehicles, r.announced)
            for r in ctx.uow.reports.traffic(period)]


REPORTS: dict[str, Callable[[Context, ReportPeriod], list[ReportRowView]]] = {
    "FINANCIAL": _financial,
    "FOREIGN_EXCHANGE": _foreign_exchange,
    "TRAFFIC": _traffic,
}


def rows_of(ctx: Context, request: ReportRequest) -> list[ReportRowView]:
    """The rows of one report, checked against the contract's bounds."""
    if request.date_from > request.date_to:
        raise rule_violation("REPORT_PERIOD", "From must not be after To.")
    period = ReportPeriod(request.date_from, request.date_to, request.customs_office)
    rows = REPORTS[request.report_type](ctx, period)
    if len(rows) > MAX_ROWS:
        raise rule_violation("REPORT_SIZE", "The report has too many rows; ask for a shorter "
                             "period or one customs office.")
    return rows


def answer(ctx: Context, message: Message) -> Answer:
    """Compute the requested report."""
    request = message.read(read_report_request)
    body = report_response_body(report_type=request.report_type, date_from=request.date_from,
                                date_to=request.date_to, rows=rows_of(ctx, request))
    return Answer("ReportResponse", body)
