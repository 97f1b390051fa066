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
