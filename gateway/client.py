"""A UAMS/1 client: one connection, pipelined requests, replies matched in order.

The gateway answers the frames of a connection in the order they arrived
(PROTOCOL §2), so the client keeps one future per frame it wrote, in a FIFO,
and resolves the oldest with each reply frame. Frames are written in the
order `request` was called. While the transport asks us to pause writing,
frames wait in a local backlog and go out, still in order, on resume.

`parse_reply` reads a reply envelope (PROTOCOL §4) into a `Reply`.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import NamedTuple, Self, cast

from lxml import etree

from protocol import namespaces as ns
from protocol.envelope import ENVELOPE_TAG, body_element, header_fields
from protocol.errors import FrameTooLarge
from protocol.framing import DEFAULT_MAX_FRAME_BYTES, HEARTBEAT, FrameDecoder, encode_frame


class ConnectionClosed(Exception):
    """The connection closed before the reply to a request arrived."""


class UnexpectedReply(Exception):
    """The gateway answered with something the request cannot have caused."""


class _ClientProtocol(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop, max_frame_bytes: int) -> None:
        self._loop = loop
        self._decoder = FrameDecoder(max_frame_bytes)
        self._transport: asyncio.Transport | None = None
        self._waiters: collections.deque[asyncio.Future[bytes]] = collections.deque()
        self._backlog: collections.deque[bytes] = collections.deque()
        self._paused = False
        self._reason = "the connection is closed"
        self.lost: asyncio.Future[None] = loop.create_future()

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop transports are not asyncio.Transport subclasses: no isinstance check here.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._decoder.receive_data(data)
            while (frame := self._decoder.next_frame()) is not None:
                if not self._waiters:
                    self._abort("the gateway sent a frame nobody asked for")
                    return
                waiter = self._waiters.popleft()
                if not waiter.done():  # a cancelled or timed-out request keeps its slot
                    waiter.set_result(frame)
        except FrameTooLarge:
            self._abort("a reply frame exceeds max_frame_bytes")

    def eof_received(self) -> bool:
        self._reason = "the gateway closed the connection"
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and self._reason == "the connection is closed":
            self._reason = f"the connection was lost: {exc.__class__.__name__}"
        self._transport = None
        self._backlog.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectionClosed(self._reason))
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._flush()

    # -- used by UamsClient -----------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    @property
    def reason(self) -> str:
        return self._reason

    def send(self, frame: bytes) -> asyncio.Future[bytes]:
        """Queue one frame; the returned future resolves with its reply's payload."""
        if not self.is_open:
            raise ConnectionClosed(self._reason)
        waiter: asyncio.Future[bytes] = self._loop.create_future()
        self._waiters.append(waiter)
        self._backlog.append(frame)
        if not self._paused:
            self._flush()
        return waiter

    def close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._reason = "the client closed the connection"
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _flush(self) -> None:
        # transport.write() may call pause_writing() synchronously: re-check on every frame.
        while self._backlog and not self._paused and self._transport is not None:
            self._transport.write(self._backlog.popleft())

    def _abort(self, reason: str) -> None:
        self._reason = reason
        self.abort()


class UamsClient:
    """One UAMS/1 connection to a gateway.

    Any number of concurrent `request` calls pipeline on the connection; each
    gets the reply to its own frame. Use `connect` to build one, and close it
    (or use it as an async context manager).
    """

    def __init__(self, protocol: _ClientProtocol, timeout: float) -> None:
        self._protocol = protocol
        self._timeout = timeout

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None = None,
        *,
        server_hostname: str | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        timeout: float = 30.0,
    ) -> UamsClient:
        """Open a connection (TLS when `ssl_context` is given).

        `timeout` bounds the connection with its TLS handshake, and then the
        wait for each reply. `max_frame_bytes` bounds the reply frames accepted.
        Connection failures raise `OSError` (`ssl.SSLError` for TLS) or `TimeoutError`.
        """
        loop = asyncio.get_running_loop()
        if ssl_context is None and server_hostname is not None:
            raise ValueError("server_hostname needs an ssl_context")
        def factory() -> _ClientProtocol:
            return _ClientProtocol(loop, max_frame_bytes)

        async with asyncio.timeout(timeout):
            if ssl_context is None:
                _, protocol = await loop.create_connection(factory, host, port)
            else:
                _, protocol = await loop.create_connection(
                    factory, host, port, ssl=ssl_context,
                    server_hostname=server_hostname or host, ssl_handshake_timeout=timeout,
                )
        return cls(protocol, timeout)

    @property
    def closed(self) -> bool:
        """True once the connection is closed or closing, by either side."""
        return not self._protocol.is_open

    async def request(self, payload: bytes) -> bytes:
        """Send one frame and return the payload of its reply frame.

        Raises `ConnectionClosed` if the connection closes before the reply
        arrives, and `TimeoutError` if no reply comes within the timeout (the
        request keeps its place: later replies still reach their requests).
        """
        waiter = self._protocol.send(encode_frame(payload))
        async with asyncio.timeout(self._timeout):
            return await waiter

    async def heartbeat(self) -> None:
        """Send a zero-length frame and wait for the gateway's zero-length answer."""
        reply = await self.request(HEARTBEAT)
        if reply != HEARTBEAT:
            raise UnexpectedReply("a heartbeat was answered with a non-empty frame")

    async def close(self) -> None:
        """Close the connection; requests still waiting fail with `ConnectionClosed`."""
        self._protocol.close()
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.shield(self._protocol.lost)
        except TimeoutError:
            self._protocol.abort()
            await self._protocol.lost

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()


# -- replies ----------------------------------------------------------------------------------

RECEIPT_TAG = f"{{{ns.REPLY}}}Receipt"
REJECTION_TAG = f"{{{ns.REPLY}}}Rejection"


class MalformedReply(ValueError):
    """A reply payload that is not a readable UAMS/1 envelope."""


class ReplyDetail(NamedTuple):
    """One `Detail` of a Rejection."""

    text: str
    line: int | None
    path: str | None
    rule: str | None


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply envelope. Receipt and Rejection fields are None/empty for other bodies."""

    message_type: str
    correlation_id: str | None
    body: etree._Element
    reference: str | None = None
    status: str | None = None
    duplicate: bool = False
    code: str | None = None
    reason: str | None = None
    details: list[ReplyDetail] = field(default_factory=list)
    retryable: bool = False

    @property
    def is_receipt(self) -> bool:
        return bool(self.body.tag == RECEIPT_TAG)

    @property
    def is_rejection(self) -> bool:
        return bool(self.body.tag == REJECTION_TAG)

    @property
    def text(self) -> str:
        """The body element as indented XML."""
        xml: str = etree.tostring(self.body, pretty_print=True, encoding="unicode")
        return xml.rstrip("\n")


_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
            remove_blank_text=True, remove_comments=True, remove_pis=True,
        )
    return parser


def parse_reply(payload: bytes) -> Reply:
    """Read a reply envelope; raises `MalformedReply` if it is not one."""
    try:
        root = etree.fromstring(payload, _parser())
    except (etree.XMLSyntaxError, ValueError):
        raise MalformedReply("the reply is not well-formed XML") from None
    if root.tag != ENVELOPE_TAG:
        raise MalformedReply("the reply is not a UAMS/1 envelope")
    body = body_element(root)
    if body is None:
        raise MalformedReply("the reply has no single body element")
    header = header_fields(root)
    message_type = header.get("MessageType") or etree.QName(body).localname
    correlation_id = header.get("CorrelationId") or None
    if body.tag == RECEIPT_TAG:
        return Reply(
            message_type, correlation_id, body,
            reference=_child_text(body, "Reference"),
            status=_child_text(body, "Status"),
            duplicate=_child_text(body, "Duplicate") in ("true", "1"),
        )
    if body.tag == REJECTION_TAG:
        return Reply(
            message_type, correlation_id, body,
            code=_child_text(body, "Code"),
            reason=_child_text(body, "Reason"),
            details=[_detail(d) for d in body.iterchildren(f"{{{ns.REPLY}}}Detail")],
            retryable=_child_text(body, "Retryable") in ("true", "1"),
        )
    return Reply(message_type, correlation_id, body)


def _child_text(parent: etree._Element, name: str) -> str | None:
    child = parent.find(f"{{{ns.REPLY}}}{name}")
    return None if child is None else (child.text or "").strip()


def _detail(element: etree._Element) -> ReplyDetail:
    line = element.get("line")
    return ReplyDetail(
        text=(element.text or "").strip(),
        line=int(line) if line is not None and line.strip().isdigit() else None,
        path=element.get("path"),
        rule=element.get("rule"),
    )
