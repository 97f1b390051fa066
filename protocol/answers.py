"""Bodies of query answers (namespace of their query, PROTOCOL §6)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from protocol import namespaces as ns
from protocol.replies import element


@dataclass(frozen=True, slots=True)
class EventView:
    at: str
    status: str
    note: str | None = None


def status_response_body(*, reference: str, kind: str, status: str, last_changed_at: str,
                         events: Iterable[EventView]) -> str:
    parts = [
        f'<StatusResponse xmlns="{ns.STATUS}">',
        element("Reference", reference),
        element("Kind", kind),
        element("Status", status),
        element("LastChangedAt", last_changed_at),
    ]
    for e in events:
        parts.append(f"<Event>{element('At', e.at)}{element('Status', e.status)}"
                     f"{element('Note', e.note)}</Event>")
    parts.append("</StatusResponse>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class NotificationView:
    """The fields of a pulled Notification and of a StatusNotification (PROTOCOL §6, §7)."""

    seq: int
    at: str
    reference: str
    kind: str
    status: str
    note: str | None = None


def _notification_fields(n: NotificationView) -> str:
    return (f"{element('Seq', n.seq)}{element('At', n.at)}{element('Reference', n.reference)}"
            f"{element('Kind', n.kind)}{element('Status', n.status)}{element('Note', n.note)}")


def pull_response_body(*, notifications: Iterable[NotificationView], more: bool) -> str:
    """`<PullResponse>`: Notification* in the given (increasing Seq) order, then More."""
    parts = [f'<PullResponse xmlns="{ns.STATUS}">']
    for n in notifications:
        parts.append(f"<Notification>{_notification_fields(n)}</Notification>")
    parts.append(f"<More>{'true' if more else 'false'}</More></PullResponse>")
    return "".join(parts)


def status_notification_body(n: NotificationView) -> str:
    """`<StatusNotification>`: the body of an MQTT notification envelope."""
    return f'<StatusNotification xmlns="{ns.STATUS}">{_notification_fields(n)}</StatusNotification>'


@dataclass(frozen=True, slots=True)
class FinancialRowView:
    customs_office: str
    tax_type: str
    declarations: int
    amount: int  # cents

    def xml(self) -> str:
        return (f"{element('CustomsOffice', self.customs_office)}"
                f"{element('TaxType', self.tax_type)}"
                f"{element('Declarations', self.declarations)}"
                f"{element('Amount', _amount(self.amount))}")


@dataclass(frozen=True, slots=True)
class ForeignExchangeRowView:
    currency: str
    declarations: int
    invoice_amount: int  # cents

    def xml(self) -> str:
        return (f"{element('Currency', self.currency)}"
                f"{element('Declarations', self.declarations)}"
                f"{element('InvoiceAmount', _amount(self.invoice_amount))}")


@dataclass(frozen=True, slots=True)
class TrafficRowView:
    border_crossing_point: str
    direction: str
    vehicles: int
    announced: int

    def xml(self) -> str:
        return (f"{element('BorderCrossingPoint', self.border_crossing_point)}"
                f"{element('Direction', self.direction)}"
                f"{element('Vehicles', self.vehicles)}"
                f"{element('Announced', self.announced)}")


ReportRowView = FinancialRowView | ForeignExchangeRowView | TrafficRowView


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"  # amounts are never negative


def report_response_body(*, report_type: str, date_from: str, date_to: str,
                         rows: Iterable[ReportRowView]) -> str:
    """`<ReportResponse>`: ReportType, From, To, then one Row per given row, in order."""
    parts = [f'<ReportResponse xmlns="{ns.REPORT}">', element("ReportType", report_type),
             element("From", date_from), element("To", date_to)]
    parts.extend(f"<Row>{row.xml()}</Row>" for row in rows)
    parts.append("</ReportResponse>")
    return "".join(parts)
