"""ReportRequest bodies (namespace urn:uams:report:1)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from protocol import namespaces as ns
from protocol.bodies.common import child_text, optional_text

_ = f"{{{ns.REPORT}}}"


@dataclass(frozen=True, slots=True)
class ReportRequest:
    report_type: str
    date_from: str  # YYYY-MM-DD, inclusive
    date_to: str    # YYYY-MM-DD, inclusive
    customs_office: str | None


def read_report_request(el: etree._Element) -> ReportRequest:
    return ReportRequest(
        report_type=child_text(el, _ + "ReportType"),
        date_from=child_text(el, _ + "From"),
        date_to=child_text(el, _ + "To"),
        customs_office=optional_text(el, _ + "CustomsOffice"),
    )
