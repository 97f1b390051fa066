"""What the event loop does per message, done cheaply without changing what comes out.

- Replies that become ready in the same turn of the loop leave a connection in one
  write (one TLS record), still in arrival order.
- The canonical log line, rendered without structlog's processor chain, is the very
  line the configured chain renders; log lines logged on the loop are written once
  per turn, in order.
- Reply MessageIds are random version-4 UUIDs; reply timestamps keep their format.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from gateway import logging as gwlogging
from gateway.config import ServerSection
from gateway.connection import UamsConnection
from gateway.ratelimit import RateLimiter
from protocol import replies
from protocol.framing import FrameDecoder, encode_frame

# -- one write per turn ------------------------------------------------------------------------


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


class HeldWriter:
    """A writer whose outcomes the test releases, all in one loop callback like the real one."""

    def __init__(self) -> None:
        self.futures: list[asyncio.Future[Any]] = []

    def submit(self, job: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        return future

    def deliver(self, *indexes: int) -> None:
        for i in indexes:
            self.futures[i].set_result(f"outcome-{i}")


class EchoPipeline:
    """Prepares a payload as itself and answers it with `reply:<payload>`."""

    def prepare(self, payload: bytes, participant: Any) -> Any:
        header = SimpleNamespace(message_id=payload.decode())
        return SimpleNamespace(message=SimpleNamespace(header=header),
                               spec=SimpleNamespace(name="Echo"), payload=payload)

    def reply_for(self, prepared: Any, outcome: Any) -> bytes:
        payload: bytes = prepared.payload
        return b"reply:" + payload

    def rejection(self, error: Any, recipient: Any, ref: Any = None) -> bytes:
        return b"rejection"


def open_connection() -> tuple[UamsConnection, RecordingTransport, HeldWriter]:
    writer = HeldWriter()
    server = SimpleNamespace(settings=ServerSection(), pipeline=EchoPipeline(), writer=writer,
                             rate_limiter=RateLimiter(0, 1), admit=lambda conn: True,
                             release=lambda conn: None)
    conn = UamsConnection(server, plaintext_participant=SimpleNamespace(id="BRK-0001"))  # type: ignore[arg-type]
    transport = RecordingTransport()
    conn.connection_made(transport)
    return conn, transport, writer


def frames_of(writes: list[bytes]) -> list[list[bytes]]:
    """The frames carried by each write."""
    result = []
    for data in writes:
        decoder = FrameDecoder()
        decoder.receive_data(data)
        frames = []
        while (frame := decoder.next_frame()) is not None:
            frames.append(frame)
        assert decoder.buffered == 0, "a write ends on a frame boundary"
        result.append(frames)
    return result


async def next_turns() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_replies_ready_in_the_same_turn_go_out_in_one_write() -> None:
    conn, transport, writer = open_connection()
    conn.data_received(b"".join(encode_frame(p) for p in (b"a", b"b", b"c")))
    await next_turns()
    assert transport.writes == [], "no reply before its outcome"

    asyncio.get_running_loop().call_soon(writer.deliver, 0, 1, 2)
    await next_turns()
    assert frames_of(transport.writes) == [[b"reply:a", b"reply:b", b"reply:c"]]
    conn.connection_lost(None)


async def test_a_reply_ready_early_waits_for_those_before_it() -> None:
    conn, transport, writer = open_connection()
    conn.data_received(b"".join(encode_frame(p) for p in (b"a", b"b", b"c")))
    await next_turns()

    asyncio.get_running_loop().call_soon(writer.deliver, 2, 1)
    await next_turns()
    assert transport.writes == [], "c and b are ready, but a is not"

    asyncio.get_running_loop().call_soon(writer.deliver, 0)
    await next_turns()
    assert frames_of(transport.writes) == [[b"reply:a", b"reply:b", b"reply:c"]]
    conn.connection_lost(None)


async def test_replies_made_while_reading_share_one_write() -> None:
    conn, transport, _ = open_connection()
    conn.data_received(encode_frame(b"") * 3)
    assert frames_of(transport.writes) == [[b"", b"", b""]]
    conn.connection_lost(None)


# -- the canonical line ------------------------------------------------------------------------


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """`gateway.logging.configure("INFO", "json")` writing to a buffer; undone afterwards."""
    saved = structlog.get_config()
    root_handlers = list(logging.getLogger().handlers)
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    # configure() caches loggers on first use: this test's must not outlive it
    monkeypatch.setattr(gwlogging, "_message_log", structlog.get_logger("uams.message"))
    gwlogging.configure("INFO", "json")
    try:
        yield out
    finally:
        structlog.configure(**saved)
        structlog.contextvars.clear_contextvars()
        logging.getLogger().handlers[:] = root_handlers
        monkeypatch.setattr(gwlogging, "_fast", None)
        monkeypatch.setattr(gwlogging, "_sink", None)


def without_timestamp(line: str) -> str:
    return re.sub(r'"timestamp": "[^"]*"', '"timestamp": …', line)


LINES: list[dict[str, Any]] = [
    dict(conn="c1", participant="BRK-0001", message_id="m-1", type="CustomsDeclaration",
         outcome="accepted", code="RELEASED", latency_ms=12.345, duplicate=None),
    dict(conn="c2", participant=None, message_id=None, type=None, outcome="rejected",
         code="MALFORMED_XML", latency_ms=0.0),
    dict(conn="c3", participant="BRK-0001", message_id='é"\\\n<x>', type="StatusRequest",
         outcome="accepted", code=None, latency_ms=1.0, duplicate=True),
]


@pytest.mark.parametrize("fields", LINES)
@pytest.mark.parametrize("context", [{}, {"worker": 1}, {"conn": "shadowed", "worker": 0}])
def test_the_canonical_line_is_what_the_configured_chain_renders(
        json_logs: io.StringIO, fields: dict[str, Any], context: dict[str, Any]) -> None:
    structlog.contextvars.bind_contextvars(**context)
    gwlogging.message_line(**fields)
    structlog.get_logger("uams.message").info("message", **fields)
    fast, chain = json_logs.getvalue().splitlines()
    assert without_timestamp(fast) == without_timestamp(chain)
    assert re.search(r'"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z"', fast)


def test_the_canonical_line_is_captured_like_any_structlog_event(
        json_logs: io.StringIO) -> None:
    with structlog.testing.capture_logs() as logs:
        gwlogging.message_line(**LINES[0])
    assert logs == [{**LINES[0], "event": "message", "log_level": "info"}]
    assert json_logs.getvalue() == ""


async def test_lines_logged_on_the_loop_are_written_once_per_turn_in_order(
        json_logs: io.StringIO) -> None:
    writes: list[str] = []
    real_write = json_logs.write

    def counting_write(text: str) -> int:
        writes.append(text)
        return real_write(text)

    json_logs.write = counting_write  # type: ignore[method-assign]
    log = structlog.get_logger("uams.test")
    for i in range(3):
        log.info("turn", n=i)
    assert writes == []
    await asyncio.sleep(0)
    assert len(writes) == 1
    assert [line["n"] for line in map(_json, writes[0].splitlines())] == [0, 1, 2]

    log.info("collected", n=3)
    elsewhere = threading.Thread(target=lambda: log.info("from a thread", n=4))
    elsewhere.start()
    elsewhere.join()
    assert [line["n"] for line in map(_json, json_logs.getvalue().splitlines())] == [
        0, 1, 2, 3, 4]


def _json(line: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(line)
    return value


# -- reply ids and timestamps ------------------------------------------------------------------


def test_reply_message_ids_are_fresh_random_uuids() -> None:
    ids = [replies.new_message_id() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def reference_timestamp(at: datetime) -> str:
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=4)),
                                               timezone(timedelta(hours=-9, minutes=-30))])))
def test_reply_timestamps_are_utc_with_milliseconds(at: datetime) -> None:
    assert replies.utc_timestamp(at) == reference_timestamp(at)


def test_reply_timestamp_of_now_is_now() -> None:
    before = reference_timestamp(datetime.now(UTC))
    now = replies.utc_timestamp()
    after = reference_timestamp(datetime.now(UTC))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", now)
    assert before <= now <= after
