"""Error codes of UAMS/1 (PROTOCOL §4) and one exception class per code.

Every exception knows its wire code, whether the peer may retry, whether the
connection closes after it, and the fixed reason text that goes on the wire.
Nothing else about an exception ever reaches a peer: `protocol.replies`
turns a `UamsError` into a `Rejection` in exactly one place.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ErrorCode(enum.StrEnum):
    FRAME_TOO_LARGE = "FRAME_TOO_LARGE"
    MALFORMED_XML = "MALFORMED_XML"
    FORBIDDEN_XML = "FORBIDDEN_XML"
    SCHEMA_INVALID = "SCHEMA_INVALID"
    UNKNOWN_MESSAGE_TYPE = "UNKNOWN_MESSAGE_TYPE"
    SENDER_MISMATCH = "SENDER_MISMATCH"
    NOT_AUTHORIZED = "NOT_AUTHORIZED"
    DUPLICATE_CONFLICT = "DUPLICATE_CONFLICT"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    BUSINESS_RULE = "BUSINESS_RULE"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    TOO_MANY_ERRORS = "TOO_MANY_ERRORS"


#: The fixed `Reason` text of each code. Never formatted with request data.
REASONS: dict[ErrorCode, str] = {
    ErrorCode.FRAME_TOO_LARGE: "The frame is larger than the gateway accepts.",
    ErrorCode.MALFORMED_XML: "The message is not well-formed UTF-8 XML.",
    ErrorCode.FORBIDDEN_XML: "The message uses an XML construct that is not allowed.",
    ErrorCode.SCHEMA_INVALID: "The message does not match its schema.",
    ErrorCode.UNKNOWN_MESSAGE_TYPE:
        "The message type is not registered or does not match the body.",
    ErrorCode.SENDER_MISMATCH: "SenderId is not the authenticated participant.",
    ErrorCode.NOT_AUTHORIZED: "The participant may not send this message type.",
    ErrorCode.DUPLICATE_CONFLICT: "This MessageId was already accepted with a different body.",
    ErrorCode.SIGNATURE_INVALID:
        "The document signature is missing, invalid or from the wrong signer.",
    ErrorCode.BUSINESS_RULE: "The message violates a business rule.",
    ErrorCode.NOT_FOUND: "The requested object does not exist.",
    ErrorCode.RATE_LIMITED: "The participant is over its message rate; retry later.",
    ErrorCode.UNAVAILABLE: "The gateway cannot store messages right now; nothing was committed.",
    ErrorCode.INTERNAL_ERROR: "The gateway failed unexpectedly; the incident was logged.",
    ErrorCode.TOO_MANY_ERRORS: "Too many malformed messages on this connection; closing.",
}

#: Codes answered with Retryable=true.
RETRYABLE = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL_ERROR})

#: Codes after which the gateway closes the connection.
CLOSES_CONNECTION = frozenset({ErrorCode.FRAME_TOO_LARGE, ErrorCode.TOO_MANY_ERRORS})

#: Codes that count against a connection's error budget (`max_garbage`).
COUNTS_AS_GARBAGE = frozenset({ErrorCode.MALFORMED_XML, ErrorCode.FORBIDDEN_XML})

MAX_DETAILS = 20
MAX_DETAIL_CHARS = 512


@dataclass(frozen=True, slots=True)
class Detail:
    """One explanation of a schema error or failed rule, safe to send to the peer."""

    text: str
    line: int | None = None
    path: str | None = None
    rule: str | None = None


class UamsError(Exception):
    """A failure that becomes a `Rejection`. Subclasses fix `code`."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, details: list[Detail] | tuple[Detail, ...] = (), *,
                 ref_message_id: str | None = None) -> None:
        super().__init__(self.code.value)
        self.details = tuple(details)[:MAX_DETAILS]
        self.ref_message_id = ref_message_id

    @property
    def reason(self) -> str:
        return REASONS[self.code]

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE

    @property
    def closes_connection(self) -> bool:
        return self.code in CLOSES_CONNECTION


class FrameTooLarge(UamsError):
    code = ErrorCode.FRAME_TOO_LARGE


class MalformedXml(UamsError):
    code = ErrorCode.MALFORMED_XML


class ForbiddenXml(UamsError):
    code = ErrorCode.FORBIDDEN_XML


class SchemaInvalid(UamsError):
    code = ErrorCode.SCHEMA_INVALID


class UnknownMessageType(UamsError):
    code = ErrorCode.UNKNOWN_MESSAGE_TYPE


class SenderMismatch(UamsError):
    code = ErrorCode.SENDER_MISMATCH


class NotAuthorized(UamsError):
    code = ErrorCode.NOT_AUTHORIZED


class DuplicateConflict(UamsError):
    code = ErrorCode.DUPLICATE_CONFLICT


class SignatureInvalid(UamsError):
    code = ErrorCode.SIGNATURE_INVALID


class BusinessRuleViolation(UamsError):
    code = ErrorCode.BUSINESS_RULE


class NotFound(UamsError):
    code = ErrorCode.NOT_FOUND


class RateLimited(UamsError):
    code = ErrorCode.RATE_LIMITED


class Unavailable(UamsError):
    code = ErrorCode.UNAVAILABLE


class InternalError(UamsError):
    code = ErrorCode.INTERNAL_ERROR


class TooManyErrors(UamsError):
    code = ErrorCode.TOO_MANY_ERRORS


ERROR_CLASSES: dict[ErrorCode, type[UamsError]] = {
    cls.code: cls
    for cls in (FrameTooLarge, MalformedXml, ForbiddenXml, SchemaInvalid, UnknownMessageType,
                SenderMismatch, NotAuthorized, DuplicateConflict, SignatureInvalid,
                BusinessRuleViolation, NotFound, RateLimited, Unavailable, InternalError,
                TooManyErrors)
}


def rule_violation(rule: str, text: str) -> BusinessRuleViolation:
    """A `BUSINESS_RULE` rejection naming one failed rule."""
    return BusinessRuleViolation([Detail(text=text, rule=rule)])
