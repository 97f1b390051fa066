"""`FrameDecoder` / `encode_frame` (PROTOCOL §2, SECURITY 23), without any socket.

In the manner of h11's tests: every input is fed whole, one byte at a time,
with trailing partial data and many frames to a chunk; Hypothesis states the
round trip under arbitrary chunkings and that arbitrary bytes give frames or
`FrameTooLarge`, never anything else.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import ErrorCode, FrameTooLarge
from protocol.framing import (
    DEFAULT_MAX_FRAME_BYTES,
    HEADER_BYTES,
    HEARTBEAT,
    FrameDecoder,
    encode_frame,
)

DOC = b'<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="urn:uams:envelope:1"/>'
TWO_GIB = 2 * 1024 * 1024 * 1024


def drain(decoder: FrameDecoder) -> list[bytes]:
    frames = []
    while (frame := decoder.next_frame()) is not None:
        frames.append(frame)
    return frames


def feed(decoder: FrameDecoder, chunks: Iterable[bytes]) -> list[bytes]:
    """Feed chunk by chunk, taking frames after each chunk as a connection does."""
    frames = []
    for chunk in chunks:
        decoder.receive_data(chunk)
        frames.extend(drain(decoder))
    return frames


def one_byte_at_a_time(data: bytes) -> Iterator[bytes]:
    return (data[i:i + 1] for i in range(len(data)))


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c for c in cuts if 0 <= c <= len(data))})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


# -- encode_frame ------------------------------------------------------------------------------


def test_encode_frame_is_big_endian_length_then_payload() -> None:
    assert encode_frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert encode_frame(b"x" * 0x010203)[:4] == b"\x00\x01\x02\x03"


def test_encode_heartbeat_is_four_zero_bytes() -> None:
    assert encode_frame(HEARTBEAT) == b"\x00\x00\x00\x00"


# -- whole, byte by byte, trailing data ---------------------------------------------------------


PAYLOADS = [DOC, b"", "é€😀".encode(), b"\x00" * 3, DOC * 50]
STREAM = b"".join(encode_frame(p) for p in PAYLOADS)


def test_whole_stream_in_one_chunk() -> None:
    decoder = FrameDecoder()
    assert feed(decoder, [STREAM]) == PAYLOADS
    assert decoder.buffered == 0
    assert not decoder.in_frame


def test_one_byte_at_a_time() -> None:
    decoder = FrameDecoder()
    assert feed(decoder, one_byte_at_a_time(STREAM)) == PAYLOADS
    assert decoder.buffered == 0
    assert not decoder.in_frame


def test_one_byte_at_a_time_yields_each_frame_exactly_when_its_last_byte_arrives() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(DOC)
    for byte in one_byte_at_a_time(frame[:-1]):
        decoder.receive_data(byte)
        assert decoder.next_frame() is None
        assert decoder.in_frame
    decoder.receive_data(frame[-1:])
    assert decoder.next_frame() == DOC
    assert decoder.next_frame() is None


@pytest.mark.parametrize("keep", [1, 2, 3, 4, 5, len(DOC) + 3])
def test_trailing_partial_frame_stays_buffered(keep: int) -> None:
    trailing = encode_frame(DOC)[:keep]
    decoder = FrameDecoder()
    assert feed(decoder, [encode_frame(b"first") + trailing]) == [b"first"]
    assert decoder.in_frame
    assert decoder.next_frame() is None
    # the rest of the trailing frame completes it
    assert feed(decoder, [encode_frame(DOC)[keep:]]) == [DOC]
    assert not decoder.in_frame


def test_partial_header_buffers_only_what_arrived() -> None:
    decoder = FrameDecoder()
    decoder.receive_data(b"\x00\x00")
    assert decoder.in_frame
    assert decoder.buffered == 2
    assert decoder.next_frame() is None


def test_many_frames_in_one_chunk() -> None:
    payloads = [f"<m n='{i}'/>".encode() for i in range(1000)]
    decoder = FrameDecoder()
    assert feed(decoder, [b"".join(encode_frame(p) for p in payloads)]) == payloads


def test_next_frame_without_data() -> None:
    decoder = FrameDecoder()
    assert decoder.next_frame() is None
    assert not decoder.in_frame
    decoder.receive_data(b"")
    assert decoder.next_frame() is None


# -- heartbeat ---------------------------------------------------------------------------------


def test_heartbeat_is_an_empty_frame() -> None:
    decoder = FrameDecoder()
    decoder.receive_data(b"\x00\x00\x00\x00")
    assert decoder.next_frame() == HEARTBEAT == b""
    assert decoder.next_frame() is None
    assert not decoder.in_frame


def test_heartbeats_between_documents() -> None:
    stream = encode_frame(b"") + encode_frame(DOC) + encode_frame(b"") + encode_frame(b"")
    for chunks in ([stream], list(one_byte_at_a_time(stream))):
        assert feed(FrameDecoder(), chunks) == [b"", DOC, b"", b""]


# -- the length limit --------------------------------------------------------------------------


def test_frame_of_exactly_the_limit_is_accepted() -> None:
    decoder = FrameDecoder(max_frame_bytes=100)
    assert feed(decoder, [encode_frame(b"x" * 100)]) == [b"x" * 100]


def test_default_limit_is_four_mebibytes() -> None:
    assert FrameDecoder().max_frame_bytes == DEFAULT_MAX_FRAME_BYTES == 4 * 1024 * 1024
    decoder = FrameDecoder()
    with pytest.raises(FrameTooLarge):
        decoder.receive_data(struct.pack(">I", DEFAULT_MAX_FRAME_BYTES + 1))


def test_two_gib_header_refused_before_any_body_byte() -> None:
    decoder = FrameDecoder()
    with pytest.raises(FrameTooLarge) as raised:
        decoder.receive_data(struct.pack(">I", TWO_GIB))
    assert raised.value.code is ErrorCode.FRAME_TOO_LARGE
    assert raised.value.closes_connection
    assert decoder.buffered == 0


def test_oversized_header_refused_the_moment_its_fourth_byte_arrives() -> None:
    decoder = FrameDecoder()
    header = struct.pack(">I", TWO_GIB)
    for byte in one_byte_at_a_time(header[:3]):
        decoder.receive_data(byte)
        assert decoder.next_frame() is None
    with pytest.raises(FrameTooLarge):
        decoder.receive_data(header[3:])
    assert decoder.buffered == 0


def test_oversized_header_with_body_bytes_in_the_same_chunk_buffers_nothing() -> None:
    decoder = FrameDecoder(max_frame_bytes=1000)
    with pytest.raises(FrameTooLarge):
        decoder.receive_data(struct.pack(">I", 1001) + b"y" * 1001)
    assert decoder.buffered == 0


def test_oversized_header_after_good_frames_in_one_chunk() -> None:
    """Frames before the bad header come out; the bad header raises when reached."""
    decoder = FrameDecoder(max_frame_bytes=1000)
    decoder.receive_data(encode_frame(b"a") + encode_frame(b"b") + struct.pack(">I", TWO_GIB)
                         + b"z" * 64)
    assert decoder.next_frame() == b"a"
    assert decoder.next_frame() == b"b"
    with pytest.raises(FrameTooLarge):
        decoder.next_frame()
    assert decoder.buffered == 0


def test_decoder_refuses_data_after_failure() -> None:
    decoder = FrameDecoder()
    with pytest.raises(FrameTooLarge):
        decoder.receive_data(b"\xff\xff\xff\xff")
    for more in (encode_frame(DOC), b"", b"\x00"):
        with pytest.raises(FrameTooLarge):
            decoder.receive_data(more)
    assert decoder.next_frame() is None
    assert decoder.buffered == 0


def test_encode_refuses_what_the_length_field_cannot_carry() -> None:
    class Huge(bytes):
        def __len__(self) -> int:
            return 0x1_0000_0000

    with pytest.raises(ValueError):
        encode_frame(Huge())


# -- properties --------------------------------------------------------------------------------

payload_lists = st.lists(st.binary(max_size=300), max_size=20)


@settings(max_examples=300, deadline=None)
@given(payloads=payload_lists, data=st.data())
def test_round_trip_under_any_chunking(payloads: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(encode_frame(p) for p in payloads)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=30))
    decoder = FrameDecoder(max_frame_bytes=300)
    assert feed(decoder, split_at(stream, cuts)) == payloads
    assert decoder.buffered == 0
    assert not decoder.in_frame


@settings(max_examples=300, deadline=None)
@given(payloads=payload_lists, tail=st.binary(max_size=3), data=st.data())
def test_round_trip_with_trailing_partial_header(payloads: list[bytes], tail: bytes,
                                                 data: st.DataObject) -> None:
    stream = b"".join(encode_frame(p) for p in payloads) + tail
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=30))
    decoder = FrameDecoder(max_frame_bytes=300)
    assert feed(decoder, split_at(stream, cuts)) == payloads
    assert decoder.buffered == len(tail)
    assert decoder.in_frame == bool(tail)


@settings(max_examples=500, deadline=None)
@given(blob=st.binary(max_size=2000), data=st.data())
def test_any_bytes_give_frames_or_frame_too_large(blob: bytes, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(blob)), max_size=20))
    limit = data.draw(st.integers(0, 600))
    decoder = FrameDecoder(max_frame_bytes=limit)
    frames: list[bytes] = []
    try:
        for chunk in split_at(blob, cuts):
            decoder.receive_data(chunk)
            while (frame := decoder.next_frame()) is not None:
                frames.append(frame)
    except FrameTooLarge:
        assert decoder.buffered == 0
        with pytest.raises(FrameTooLarge):
            decoder.receive_data(b"\x00\x00\x00\x00")
    # Whatever came out is a lossless prefix of the input, each frame within the limit.
    consumed = b"".join(encode_frame(f) for f in frames)
    assert blob.startswith(consumed)
    assert all(len(f) <= limit for f in frames)


@settings(max_examples=300, deadline=None)
@given(blob=st.binary(max_size=2000))
def test_any_bytes_leave_nothing_unaccounted(blob: bytes) -> None:
    """Bytes in = frames out + what is buffered (+ a header already taken)."""
    decoder = FrameDecoder(max_frame_bytes=0xFFFFFFFF)
    decoder.receive_data(blob)
    frames = drain(decoder)
    consumed = sum(HEADER_BYTES + len(f) for f in frames)
    rest = len(blob) - consumed
    assert decoder.buffered == (rest - HEADER_BYTES if rest >= HEADER_BYTES else rest)
    assert decoder.in_frame == (rest > 0)
