"""StatusRequest and PullRequest bodies (namespace urn:uams:status:1)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from protocol import namespaces as ns
from protocol.bodies.common import optional_text

_ = f"{{{ns.STATUS}}}"


@dataclass(frozen=True, slots=True)
class StatusRequest:
    reference: str | None
    local_reference_number: str | None


@dataclass(frozen=True, slots=True)
class PullRequest:
    ack_up_to: int
    max_messages: int


def read_status_request(el: etree._Element) -> StatusRequest:
    return StatusRequest(optional_text(el, _ + "Reference"),
                         optional_text(el, _ + "LocalReferenceNumber"))


def read_pull_request(el: etree._Element) -> PullRequest:
    ack = optional_text(el, _ + "AckUpTo")
    most = optional_text(el, _ + "MaxMessages")
    return PullRequest(int(ack) if ack else 0, int(most) if most else 100)
