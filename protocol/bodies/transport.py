"""VehiclePreArrival and BorderCrossing bodies (namespace urn:uams:transport:1)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from protocol import namespaces as ns
from protocol.bodies.common import child_text, optional_text

_ = f"{{{ns.TRANSPORT}}}"


@dataclass(frozen=True, slots=True)
class VehiclePreArrival:
    direction: str
    border_crossing_point: str
    expected_at: str
    vehicle_registration: str
    trailer_registration: str | None
    vehicle_country: str
    driver_name: str
    driver_document: str
    transport_permit_number: str | None
    declaration_numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BorderCrossing:
    direction: str
    border_crossing_point: str
    crossed_at: str
    vehicle_registration: str
    pre_arrival_number: str | None
    declaration_numbers: tuple[str, ...]


def _numbers(el: etree._Element) -> tuple[str, ...]:
    return tuple((n.text or "").strip() for n in el.iterfind(_ + "DeclarationNumber"))


def read_pre_arrival(el: etree._Element) -> VehiclePreArrival:
    return VehiclePreArrival(
        direction=child_text(el, _ + "Direction"),
        border_crossing_point=child_text(el, _ + "BorderCrossingPoint"),
        expected_at=child_text(el, _ + "ExpectedAt"),
        vehicle_registration=child_text(el, _ + "VehicleRegistration"),
        trailer_registration=optional_text(el, _ + "TrailerRegistration"),
        vehicle_country=child_text(el, _ + "VehicleCountry"),
        driver_name=child_text(el, _ + "DriverName"),
        driver_document=child_text(el, _ + "DriverDocument"),
        transport_permit_number=optional_text(el, _ + "TransportPermitNumber"),
        declaration_numbers=_numbers(el),
    )


def read_crossing(el: etree._Element) -> BorderCrossing:
    return BorderCrossing(
        direction=child_text(el, _ + "Direction"),
        border_crossing_point=child_text(el, _ + "BorderCrossingPoint"),
        crossed_at=child_text(el, _ + "CrossedAt"),
        vehicle_registration=child_text(el, _ + "VehicleRegistration"),
        pre_arrival_number=optional_text(el, _ + "PreArrivalNumber"),
        declaration_numbers=_numbers(el),
    )
