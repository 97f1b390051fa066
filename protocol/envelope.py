"""The UAMS/1 envelope (PROTOCOL §3): header fields and the one body element."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lxml import etree

from protocol import namespaces as ns

ENVELOPE_TAG = f"{{{ns.ENVELOPE}}}Envelope"
HEADER_TAG = f"{{{ns.ENVELOPE}}}Header"
BODY_TAG = f"{{{ns.ENVELOPE}}}Body"
GATEWAY_ID = "SCC"

MESSAGE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
PARTICIPANT_ID = re.compile(r"[A-Z0-9-]{2,32}")

T = TypeVar("T")

_HEADER_FIELDS = ("MessageId", "MessageType", "SenderId", "RecipientId", "SentAt",
                  "CorrelationId")


@dataclass(frozen=True, slots=True)
class Header:
    message_id: str
    message_type: str
    sender_id: str
    sent_at: str
    recipient_id: str = GATEWAY_ID
    correlation_id: str | None = None


@dataclass(slots=True)
class Message:
    """A parsed request: its header, its body element and the bytes it came in.

    What is derived from the body (its digest, its decoded form) is computed once
    and kept, so that the event loop can do that CPU work before the message
    reaches the writer's transaction. A new `body` (a verified or translated one)
    makes both be computed afresh.
    """

    header: Header
    body: etree._Element
    payload: bytes
    _digest: tuple[etree._Element, str] | None = field(default=None, repr=False)
    _decoded: tuple[etree._Element, Callable[..., Any], Any] | None = field(default=None,
                                                                          repr=False)

    @property
    def body_digest(self) -> str:
        """SHA-256 of the body in exclusive canonical form (what duplicates are compared by)."""
        cached = self._digest
        if cached is None or cached[0] is not self.body:
            cached = self._digest = (self.body, body_digest(self.body))
        return cached[1]

    def read(self, reader: Callable[[etree._Element], T]) -> T:
        """The body as `reader` decodes it; decoded once for each body and reader."""
        cached = self._decoded
        if cached is not None and cached[0] is self.body and cached[1] is reader:
            value: T = cached[2]
            return value
        decoded = reader(self.body)
        self._decoded = (self.body, reader, decoded)
        return decoded


def body_digest(body: etree._Element) -> str:
    canonical = etree.tostring(body, method="c14n", exclusive=True, with_comments=False)
    return hashlib.sha256(canonical).hexdigest()


def header_fields(root: etree._Element) -> dict[str, str]:
    """Header fields by local name, read leniently (before the schema has spoken)."""
    fields: dict[str, str] = {}
    if root.tag != ENVELOPE_TAG or len(root) == 0:
        return fields
    header = root[0]
    if header.tag != HEADER_TAG:
        return fields
    prefix = f"{{{ns.ENVELOPE}}}"
    for child in header:
        tag = child.tag
        if isinstance(tag, str) and tag.startswith(prefix):
            name = tag[len(prefix):]
            if name in _HEADER_FIELDS and name not in fields:
                fields[name] = (child.text or "").strip()
    return fields


def readable_message_id(fields: dict[str, str]) -> str | None:
    """The request's MessageId if it is lexically valid, for RefMessageId/CorrelationId."""
    value = fields.get("MessageId")
    return value if value and MESSAGE_ID.fullmatch(value) else None


def body_element(root: etree._Element) -> etree._Element | None:
    """The single element inside Body, or None when Body is absent or holds other than one."""
    for child in root:
        if child.tag == BODY_TAG:
            elements = [c for c in child if isinstance(c.tag, str)]
            return elements[0] if len(elements) == 1 else None
    return None


def message_from(root: etree._Element, payload: bytes, fields: dict[str, str] | None = None,
                 body: etree._Element | None = None) -> Message:
    """Build the Message of a schema-valid envelope (its `header_fields` and `body_element`
    when the caller has them already)."""
    f = fields if fields is not None else header_fields(root)
    body = body if body is not None else body_element(root)
    assert body is not None, "message_from() needs a schema-valid envelope"
    return Message(
        header=Header(
            message_id=f["MessageId"],
            message_type=f["MessageType"],
            sender_id=f["SenderId"],
            sent_at=f["SentAt"],
            recipient_id=f.get("RecipientId") or GATEWAY_ID,
            correlation_id=f.get("CorrelationId"),
        ),
        body=body,
        payload=payload,
    )
