"""OffenseReport bodies (namespace urn:uams:enforcement:1)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from protocol import namespaces as ns
from protocol.bodies.common import child_text, optional_text

_ = f"{{{ns.ENFORCEMENT}}}"


@dataclass(frozen=True, slots=True)
class OffenseReport:
    offense_type: str
    detected_at: str
    customs_office: str
    declaration_number: str | None
    vehicle_registration: str | None
    description: str


def read_offense(el: etree._Element) -> OffenseReport:
    description = el.find(_ + "Description")
    return OffenseReport(
        offense_type=child_text(el, _ + "OffenseType"),
        detected_at=child_text(el, _ + "DetectedAt"),
        customs_office=child_text(el, _ + "CustomsOffice"),
        declaration_number=optional_text(el, _ + "DeclarationNumber"),
        vehicle_registration=optional_text(el, _ + "VehicleRegistration"),
        # free text is kept as sent (docs/protocol.md, schema decision 4)
        description=(description.text or "") if description is not None else "",
    )
