"""UAMS/1 framing (PROTOCOL §2): a 4-byte big-endian length, then that many bytes.

`FrameDecoder` is a plain object with no I/O, in the manner of h11: feed it
bytes with `receive_data`, take frames with `next_frame`. It checks the length
prefix the moment the four header bytes are complete, so an oversized frame is
refused before a single body byte is buffered. A zero-length frame is a
heartbeat and comes out as `b""`.
"""

from __future__ import annotations

import struct

from protocol.errors import FrameTooLarge

HEADER = struct.Struct(">I")
HEADER_BYTES = HEADER.size
DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024
HEARTBEAT = b""


def encode_frame(payload: bytes) -> bytes:
    """The frame that carries `payload` (an empty payload is a heartbeat)."""
    if len(payload) > 0xFFFFFFFF:
        raise ValueError("payload does not fit a UAMS/1 frame")
    return HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Splits a byte stream into frames; bounded by `max_frame_bytes`.

    After `FrameTooLarge` was raised the decoder is dead: the connection must
    close, and further data is refused.
    """

    __slots__ = ("max_frame_bytes", "_buffer", "_expected", "_failed")

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._expected: int | None = None
        self._failed = False

    @property
    def in_frame(self) -> bool:
        """True while a frame has begun (some header byte arrived) but is not complete."""
        return bool(self._buffer) or self._expected is not None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def receive_data(self, data: bytes) -> None:
        if self._failed:
            raise FrameTooLarge()
        self._buffer += data
        # Check the header as soon as it is complete: never buffer an oversized body.
        if self._expected is None and len(self._buffer) >= HEADER_BYTES:
            self._take_header()

    def next_frame(self) -> bytes | None:
        """The next complete frame's payload, or None if more data is needed."""
        if self._expected is None:
            if len(self._buffer) < HEADER_BYTES:
                return None
            self._take_header()
        expected = self._expected
        assert expected is not None
        if len(self._buffer) < expected:
            return None
        payload = bytes(self._buffer[:expected])
        del self._buffer[:expected]
        self._expected = None
        return payload

    def _take_header(self) -> None:
        (length,) = HEADER.unpack_from(self._buffer)
        if length > self.max_frame_bytes:
            self._failed = True
            self._buffer.clear()
            raise FrameTooLarge()
        del self._buffer[:HEADER_BYTES]
        self._expected = length
