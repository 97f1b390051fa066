"""One UAMS/1 connection: bytes → frames → pipeline → replies, in arrival order.

An `asyncio.Protocol` (measured 2–3× cheaper per message than Streams). Each
complete frame is prepared at once (parse, schema, authorization); accepted
requests go to the group-commit writer, and their reply slot waits in a queue
that is flushed strictly in arrival order. Bounds (PROTOCOL §2, SECURITY
23–27): the frame length is checked before any body byte is buffered; past
`max_inflight` unanswered frames, or while the peer does not read its replies,
the connection stops reading; malformed or forbidden documents spend an error
budget; a half-sent frame has `frame_timeout` to finish; an idle connection
is closed after `idle_timeout` (both checked by one periodic timer, not per frame).

Replies that are ready together go out in one `transport.write` (one TLS record,
one send): the writer hands back a whole batch's outcomes in one turn of the
loop, so each connection schedules a single flush for that turn instead of
writing reply by reply; replies made while taking frames (heartbeats,
rejections) are written once the frames at hand are taken.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import structlog

from gateway.logging import message_line
from handlers.participants import Participant
from protocol.errors import (
    COUNTS_AS_GARBAGE,
    FrameTooLarge,
    InternalError,
    RateLimited,
    TooManyErrors,
    UamsError,
)
from protocol.framing import HEADER, FrameDecoder

if TYPE_CHECKING:
    from gateway.server import GatewayServer

conn_log = structlog.get_logger("uams.connection")

_ids = itertools.count(1)

#: Replies made while taking frames are written once this many bytes are ready (or when
#: the frames at hand are taken), so that a peer that does not read is still noticed soon.
WRITE_AT_BYTES = 16 * 1024


@dataclass(slots=True)
class _Slot:
    """One reply position: bytes when ready, or a future the writer resolves."""

    reply: bytes | None
    close_after: bool = False


class UamsConnection(asyncio.Protocol):
    def __init__(self, server: GatewayServer, *, plaintext_participant: Participant | None = None
                 ) -> None:
        self.server = server
        self.settings = server.settings
        self.id = f"c{next(_ids)}"
        self.participant: Participant | None = plaintext_participant
        self.transport: asyncio.Transport | None = None
        self.decoder = FrameDecoder(self.settings.max_frame_bytes)
        self.slots: deque[_Slot] = deque()
        self.garbage = 0
        self.closing = False       # no more frames are read; close once replies are out
        self.peer_eof = False      # the peer half-closed: answer what it sent, then close
        self._taking = False
        self._flush_soon = False   # a flush is scheduled for this turn of the loop
        self._unwritten = 0        # bytes of replies made while taking frames, not yet written
        self.reading_paused = False
        self.writing_paused = False
        self.last_frame_at = time.monotonic()
        self.frame_started_at: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._drained = asyncio.Event()
        self._drained.set()

    # life cycle -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport = transport
        if self.participant is None:
            self.participant = self.server.identify(transport)
        if self.participant is None:
            conn_log.warning("connection_refused", conn=self.id, why="unknown certificate")
            transport.abort()
            return
        if not self.server.admit(self):
            conn_log.warning("connection_refused", conn=self.id, participant=self.participant.id,
                             why="connection limit")
            transport.abort()
            self.participant = None
            return
        conn_log.debug("connection_open", conn=self.id, participant=self.participant.id)
        self._arm_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.closing = True
        self.slots.clear()
        self._drained.set()
        if self.participant is not None:
            self.server.release(self)
        self.transport = None

    def pause_writing(self) -> None:
        self.writing_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._take_frames()

    # incoming -------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        try:
            self.decoder.receive_data(data)
        except FrameTooLarge as error:
            self._stop_with(error)
            return
        self._take_frames()

    def _take_frames(self) -> None:
        """Prepare the frames buffered so far, while the connection is below its bounds.

        Frames past `max_inflight` (or while the peer does not read) stay in the
        decoder, and reading pauses, until replies drain (PROTOCOL §2).
        """
        if self._taking:
            return
        self._taking = True
        decoder = self.decoder
        took = False
        try:
            while not self.closing:
                if self._saturated():
                    # Replies made meanwhile (heartbeats, rejections) may free room.
                    if not (self.slots and self.slots[0].reply is not None):
                        break
                    self._write_ready()
                    if self.transport is None or self._saturated():
                        break
                payload = decoder.next_frame()
                if payload is None:
                    break
                took = True
                self._on_frame(payload)
                if self._unwritten >= WRITE_AT_BYTES:
                    self._write_ready()
        except FrameTooLarge as error:
            self._stop_with(error)
        finally:
            self._taking = False
        if took:
            self.last_frame_at = time.monotonic()
        if not decoder.in_frame:
            self.frame_started_at = None
        elif self.frame_started_at is None:
            self.frame_started_at = time.monotonic()
        if not self._write_ready():
            return
        if self.peer_eof and not self.slots and self.transport is not None:
            self.transport.close()  # the peer sent its last frame and everything is answered
            return
        self._update_reading()

    def _saturated(self) -> bool:
        return self.writing_paused or len(self.slots) >= self.settings.max_inflight

    def eof_received(self) -> bool | None:
        # The peer will send nothing more: answer the frames it sent, then close.
        self.peer_eof = True
        self._take_frames()
        if self.transport is not None and self.transport.get_extra_info("sslcontext") is None:
            return True  # plain TCP: keep the transport open to write the replies
        return None

    def _on_frame(self, payload: bytes) -> None:
        if not payload:  # heartbeat
            self._append(_Slot(b""))
            return
        assert self.participant is not None
        started = time.perf_counter()
        pipeline = self.server.pipeline
        if not self.server.rate_limiter.allow(self.participant.id):
            error = RateLimited()
            self._log(None, error, started, None)
            self._append(_Slot(pipeline.rejection(error, self.participant.id)))
            return
        try:
            prepared = pipeline.prepare(payload, self.participant)
        except UamsError as error:
            if error.code in COUNTS_AS_GARBAGE:
                self.garbage += 1
                if self.garbage >= self.settings.max_garbage:
                    self._stop_with(TooManyErrors(ref_message_id=error.ref_message_id))
                    return
            self._log(None, error, started, error.ref_message_id)
            self._append(_Slot(pipeline.rejection(error, self.participant.id)))
            return
        except Exception:
            conn_log.exception("prepare_failed", conn=self.id)
            self._append(_Slot(pipeline.rejection(InternalError(), self.participant.id)))
            return
        slot = _Slot(None)
        self._append(slot)
        future = self.server.writer.submit(prepared)
        future.add_done_callback(
            lambda f: self._on_outcome(slot, prepared, f, started))

    def _on_outcome(self, slot: _Slot, prepared: Any, future: asyncio.Future[Any],
                    started: float) -> None:
        if self.transport is None:
            return
        outcome = future.result()
        try:
            slot.reply = self.server.pipeline.reply_for(prepared, outcome)
        except Exception:
            conn_log.exception("reply_failed", conn=self.id)
            outcome = InternalError()
            slot.reply = self.server.pipeline.rejection(outcome, self.participant.id
                                                        if self.participant else None)
        self._log(prepared, outcome, started, prepared.message.header.message_id)
        if not self._flush_soon:  # once for all the outcomes of this turn of the loop
            self._flush_soon = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _stop_with(self, error: UamsError) -> None:
        """Answer with a connection-closing rejection after the replies before it."""
        self.closing = True
        recipient = self.participant.id if self.participant else None
        self._log(None, error, time.perf_counter(), error.ref_message_id)
        self._append(_Slot(self.server.pipeline.rejection(error, recipient), close_after=True))

    # outgoing -------------------------------------------------------------------------------

    def _append(self, slot: _Slot) -> None:
        self.slots.append(slot)
        self._drained.clear()
        if not self._taking:
            self._flush()
        elif slot.reply is not None:
            self._unwritten += len(slot.reply)

    def _write_ready(self) -> bool:
        """Write the replies that are ready at the head of the queue, in one write.

        False when the connection is gone or was just closed after its last reply.
        """
        transport = self.transport
        if transport is None:
            return False
        self._unwritten = 0
        slots = self.slots
        if not slots or slots[0].reply is None:
            return True
        frames: list[bytes] = []
        while slots and (reply := slots[0].reply) is not None:
            slot = slots.popleft()
            frames.append(HEADER.pack(len(reply)))
            frames.append(reply)
            if slot.close_after:
                transport.write(b"".join(frames))
                slots.clear()
                transport.close()
                self._drained.set()
                return False
        transport.write(b"".join(frames))
        if not slots:
            self._drained.set()
        return True

    def _flush(self) -> None:
        self._flush_soon = False
        if not self._write_ready():
            return
        transport = self.transport
        assert transport is not None
        if not self.slots and (self.closing or (self.peer_eof and not self.decoder.buffered)):
            transport.close()
            return
        if not self._taking and self.decoder.buffered:
            self._take_frames()  # frames held back by max_inflight may go now
        else:
            self._update_reading()

    def _update_reading(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        should_pause = self.closing or self.peer_eof or self._saturated()
        if should_pause and not self.reading_paused:
            transport.pause_reading()
            self.reading_paused = True
        elif not should_pause and self.reading_paused:
            transport.resume_reading()
            self.reading_paused = False

    # timeouts -------------------------------------------------------------------------------

    def _arm_timer(self, delay: float = 1.0) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(delay, self._check_timeouts)

    def _check_timeouts(self) -> None:
        self._timer = None
        if self.transport is None:
            return
        now = time.monotonic()
        if self.frame_started_at is not None:
            if now - self.frame_started_at > self.settings.frame_timeout_seconds:
                conn_log.info("frame_timeout", conn=self.id)
                self.transport.abort()
                return
        elif not self.slots and now - self.last_frame_at > self.settings.idle_timeout_seconds:
            conn_log.info("idle_timeout", conn=self.id)
            self.transport.close()
            return
        self._arm_timer(min(1.0, self.settings.frame_timeout_seconds / 4,
                            self.settings.idle_timeout_seconds / 4))

    # shutdown -------------------------------------------------------------------------------

    async def finish(self) -> None:
        """Stop reading, let the replies in flight go out, then close."""
        self.closing = True
        self._update_reading()
        await self._drained.wait()
        if self.transport is not None:
            self.transport.close()

    # logging --------------------------------------------------------------------------------

    def _log(self, prepared: Any, outcome: Any, started: float, message_id: str | None) -> None:
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        participant = self.participant.id if self.participant else None
        if isinstance(outcome, UamsError):
            message_line(self.id, participant, message_id,
                         prepared.spec.name if prepared is not None else None,
                         "rejected", outcome.code.value, latency_ms)
        else:
            message_line(self.id, participant, message_id, prepared.spec.name, "accepted",
                         getattr(outcome, "status", None), latency_ms,
                         duplicate=getattr(outcome, "duplicate", False) or None)


ConnectionFactory = Callable[[], UamsConnection]
