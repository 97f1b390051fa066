"""Builders and helpers for the transport, enforcement and report tests."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

from gateway.client import Reply, UamsClient, parse_reply
from protocol import namespaces as ns
from protocol.schemas import SchemaSet
from tests.builders import envelope, status_request

_SCHEMAS = SchemaSet()
S = f"{{{ns.STATUS}}}"
R = f"{{{ns.REPORT}}}"


def _numbers(numbers: tuple[str, ...]) -> str:
    return "".join(f"<DeclarationNumber>{n}</DeclarationNumber>" for n in numbers)


def pre_arrival(*, sender: str = "BRK-0001", vehicle: str = "AB123CD",
                direction: str = "ENTRY", point: str = "RED-BRIDGE",
                expected_at: str = "2026-12-04T08:00:00+04:00",
                declarations: tuple[str, ...] = (), mid: str | None = None) -> bytes:
    body = (
        f'<VehiclePreArrival xmlns="{ns.TRANSPORT}"><Direction>{direction}</Direction>'
        f"<BorderCrossingPoint>{point}</BorderCrossingPoint><ExpectedAt>{expected_at}</ExpectedAt>"
        f"<VehicleRegistration>{escape(vehicle)}</VehicleRegistration>"
        "<TrailerRegistration>CD456EF</TrailerRegistration><VehicleCountry>GE</VehicleCountry>"
        "<DriverName>Giorgi Beridze</DriverName><DriverDocument>GE13579246</DriverDocument>"
        f"{_numbers(declarations)}</VehiclePreArrival>"
    )
    return envelope("VehiclePreArrival", body, sender=sender, mid=mid)


def crossing(*, sender: str = "BCP-0001", vehicle: str = "AB123CD", direction: str = "ENTRY",
             point: str = "RED-BRIDGE", crossed_at: str = "2026-12-04T09:12:00+04:00",
             pre_arrival_number: str | None = None, declarations: tuple[str, ...] = (),
             mid: str | None = None) -> bytes:
    pre = (f"<PreArrivalNumber>{pre_arrival_number}</PreArrivalNumber>"
           if pre_arrival_number else "")
    body = (
        f'<BorderCrossing xmlns="{ns.TRANSPORT}"><Direction>{direction}</Direction>'
        f"<BorderCrossingPoint>{point}</BorderCrossingPoint><CrossedAt>{crossed_at}</CrossedAt>"
        f"<VehicleRegistration>{escape(vehicle)}</VehicleRegistration>{pre}"
        f"{_numbers(declarations)}</BorderCrossing>"
    )
    return envelope("BorderCrossing", body, sender=sender, mid=mid)


def offense(*, sender: str = "BCP-0001", offense_type: str = "SMUGGLING",
            office: str = "GAZAKH-01", declaration: str | None = None,
            vehicle: str | None = "AB123CD", mid: str | None = None) -> bytes:
    decl = f"<DeclarationNumber>{declaration}</DeclarationNumber>" if declaration else ""
    veh = f"<VehicleRegistration>{vehicle}</VehicleRegistration>" if vehicle else ""
    body = (
        f'<OffenseReport xmlns="{ns.ENFORCEMENT}"><OffenseType>{offense_type}</OffenseType>'
        f"<DetectedAt>2026-12-04T09:40:00+04:00</DetectedAt><CustomsOffice>{office}</CustomsOffice>"
        f"{decl}{veh}<Description>Cigarettes behind the crates, not declared.</Description>"
        "</OffenseReport>"
    )
    return envelope("OffenseReport", body, sender=sender, mid=mid)


def report_request(report_type: str, date_from: str, date_to: str, *,
                   sender: str = "SCC-OFF1", office: str | None = None) -> bytes:
    office_xml = f"<CustomsOffice>{office}</CustomsOffice>" if office else ""
    body = (f'<ReportRequest xmlns="{ns.REPORT}"><ReportType>{report_type}</ReportType>'
            f"<From>{date_from}</From><To>{date_to}</To>{office_xml}</ReportRequest>")
    return envelope("ReportRequest", body, sender=sender)


async def send(client: UamsClient, payload: bytes) -> Reply:
    """Send one request; the reply must be a schema-valid UAMS/1 envelope."""
    raw = await client.request(payload)
    _SCHEMAS.validate(etree.fromstring(raw))
    return parse_reply(raw)


async def accepted(client: UamsClient, payload: bytes) -> Reply:
    reply = await send(client, payload)
    assert reply.is_receipt, reply.text
    return reply


def rules_of(reply: Reply) -> list[str | None]:
    assert reply.is_rejection, reply.text
    return [d.rule for d in reply.details]


@dataclass(frozen=True)
class Status:
    kind: str
    status: str
    events: list[tuple[str, str | None]]  # (Status, Note)


async def status_of(client: UamsClient, sender: str, reference: str) -> Status | str:
    """The StatusResponse of `reference`, or the rejection code."""
    reply = await send(client, status_request(sender=sender, reference=reference))
    if reply.is_rejection:
        assert reply.code is not None
        return reply.code
    body = reply.body
    return Status(
        kind=body.findtext(S + "Kind") or "",
        status=body.findtext(S + "Status") or "",
        events=[(e.findtext(S + "Status") or "", e.findtext(S + "Note"))
                for e in body.findall(S + "Event")],
    )


def report_rows(reply: Reply) -> list[tuple[str, ...]]:
    """The Rows of a ReportResponse, each as a tuple of its column texts."""
    assert reply.message_type == "ReportResponse", reply.text
    return [tuple((c.text or "") for c in row) for row in reply.body.findall(R + "Row")]


async def pulled(client: UamsClient, sender: str) -> list[tuple[str, str, str]]:
    """(Reference, Kind, Status) of every notification waiting for `sender`, oldest first."""
    body = f'<PullRequest xmlns="{ns.STATUS}"><MaxMessages>500</MaxMessages></PullRequest>'
    reply = await send(client, envelope("PullRequest", body, sender=sender))
    assert reply.message_type == "PullResponse", reply.text
    return [(n.findtext(S + "Reference") or "", n.findtext(S + "Kind") or "",
             n.findtext(S + "Status") or "") for n in reply.body.findall(S + "Notification")]
