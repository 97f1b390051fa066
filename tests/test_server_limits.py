"""The listener's limits over real sockets (PROTOCOL §1–2, SECURITY 17–28).

Each test starts an in-process gateway (mutual TLS on 127.0.0.1, port 0, SQLite
in a temp folder) with the limits it needs and talks to it with raw TLS
streams, so that it can send what no well-behaved client would: a 2 GiB
length prefix, half a header, garbage, a peer that vanishes mid-frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import sqlite3
import ssl
import struct
import threading
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog

from gateway.app import Gateway, start_gateway
from gateway.client import Reply, parse_reply
from gateway.config import Config
from gateway.pki import init_dev_pki, revoke
from protocol.framing import encode_frame
from tests.builders import declaration, envelope, goods_item, message_id
from tests.conftest import client_context, make_config

TWO_GIB = 2 * 1024 * 1024 * 1024
GARBAGE = b"<this is not xml"


# -- raw connections ---------------------------------------------------------------------------


@dataclass
class Raw:
    """A TLS stream that sends and reads frames by hand."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def send(self, *payloads: bytes) -> None:
        self.writer.write(b"".join(encode_frame(p) for p in payloads))

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    async def frame(self, timeout: float = 10) -> bytes:
        async with asyncio.timeout(timeout):
            (length,) = struct.unpack(">I", await self.reader.readexactly(4))
            return await self.reader.readexactly(length)

    async def reply(self, timeout: float = 10) -> Reply:
        return parse_reply(await self.frame(timeout))

    async def closed_by_peer(self, timeout: float = 10) -> bool:
        """True when the next read shows the end of the connection instead of data."""
        try:
            async with asyncio.timeout(timeout):
                data = await self.reader.read(1)
        except (ConnectionError, ssl.SSLError):
            return True
        return data == b""

    def abort(self) -> None:
        self.writer.transport.abort()

    async def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
            async with asyncio.timeout(5):
                await self.writer.wait_closed()


async def open_raw(port: int, context: ssl.SSLContext) -> Raw:
    async with asyncio.timeout(10):
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname="localhost")
    return Raw(reader, writer)


Open = Callable[..., Awaitable[Raw]]
Start = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def start(pki_dir: Path, tmp_path: Path) -> AsyncIterator[Start]:
    """`await start(SERVER_MAX_INFLIGHT="4")` → a running gateway with those overrides."""
    gateways: list[Gateway] = []

    async def _start(*, pki: Path = pki_dir, **env: str) -> Gateway:
        workdir = tmp_path / f"gw{len(gateways)}"
        workdir.mkdir()
        gw = await start_gateway(make_config(pki, workdir, **env))
        gateways.append(gw)
        return gw

    yield _start
    for gw in gateways:
        await gw.stop()


@pytest.fixture
async def raw(pki_dir: Path) -> AsyncIterator[Open]:
    """`await raw(gw, "BRK-0001")` → a raw TLS connection (or `context=` any client context)."""
    opened: list[Raw] = []

    async def _open(gw: Gateway, participant: str | None = "BRK-0001", *,
                    context: ssl.SSLContext | None = None) -> Raw:
        assert gw.tls_port is not None
        conn = await open_raw(gw.tls_port, context or client_context(pki_dir, participant))
        opened.append(conn)
        return conn

    yield _open
    for conn in opened:
        await conn.close()


def store_path(config: Config) -> Path:
    return Path(config.store.url.removeprefix("sqlite:///"))


def query(config: Config, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(store_path(config))) as db:
        return db.execute(sql).fetchall()


def count_messages(config: Config) -> int:
    return int(query(config, "SELECT count(*) FROM messages")[0][0])


async def wait_until(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def declaration_with(items: int, *, lrn: str | None = None, mid: str | None = None) -> bytes:
    return declaration(mid=mid, lrn=lrn or message_id("LRN"),
                       items=[goods_item(seq=i) for i in range(1, items + 1)])


# -- FRAME_TOO_LARGE ---------------------------------------------------------------------------


async def test_two_gib_header_answered_and_closed_without_the_body(start: Start,
                                                                   raw: Open) -> None:
    gw = await start()
    conn = await raw(gw)
    conn.send_raw(struct.pack(">I", TWO_GIB))  # and not one body byte
    reply = await conn.reply(timeout=5)
    assert reply.code == "FRAME_TOO_LARGE"
    assert reply.retryable is False
    assert reply.correlation_id is None
    assert await conn.closed_by_peer(timeout=5)
    assert count_messages(gw.config) == 0


async def test_frame_limit_is_configurable_and_exact(start: Start, raw: Open) -> None:
    payload = declaration()
    gw = await start(SERVER_MAX_FRAME_BYTES=str(len(payload)))
    conn = await raw(gw)
    conn.send(payload)
    assert (await conn.reply()).message_type == "Receipt"
    conn.send(payload + b" ")
    assert (await conn.reply()).code == "FRAME_TOO_LARGE"
    assert await conn.closed_by_peer(timeout=5)


async def test_frame_too_large_after_pipelined_requests_comes_last(start: Start,
                                                                   raw: Open) -> None:
    gw = await start()
    conn = await raw(gw)
    first, second = declaration(mid="big-1"), declaration(mid="big-2")
    conn.send_raw(encode_frame(first) + encode_frame(second) + struct.pack(">I", TWO_GIB))
    assert (await conn.reply()).correlation_id == "big-1"
    assert (await conn.reply()).correlation_id == "big-2"
    assert (await conn.reply()).code == "FRAME_TOO_LARGE"
    assert await conn.closed_by_peer(timeout=5)
    assert count_messages(gw.config) == 2


# -- the error budget ----------------------------------------------------------------------------


async def test_tenth_garbage_frame_gets_too_many_errors_and_closes(start: Start,
                                                                   raw: Open) -> None:
    gw = await start()
    conn = await raw(gw)
    conn.send(*([GARBAGE] * 12))  # two more than the budget: never answered
    codes = [(await conn.reply()).code for _ in range(10)]
    assert codes == ["MALFORMED_XML"] * 9 + ["TOO_MANY_ERRORS"]
    assert await conn.closed_by_peer(timeout=5)


async def test_forbidden_xml_spends_the_same_budget(start: Start, raw: Open) -> None:
    gw = await start(SERVER_MAX_GARBAGE="4")
    conn = await raw(gw)
    conn.send(b"<!DOCTYPE a><a/>", GARBAGE, b"<a><?pi?></a>", b"<a>&x;</a>")
    codes = [(await conn.reply()).code for _ in range(4)]
    assert codes == ["FORBIDDEN_XML", "MALFORMED_XML", "FORBIDDEN_XML", "TOO_MANY_ERRORS"]
    assert await conn.closed_by_peer(timeout=5)


async def test_good_frames_do_not_restore_the_budget(start: Start, raw: Open) -> None:
    gw = await start(SERVER_MAX_GARBAGE="3")
    conn = await raw(gw)
    conn.send(GARBAGE, declaration(), GARBAGE, b"", GARBAGE)
    replies = [await conn.frame() for _ in range(5)]
    assert parse_reply(replies[0]).code == "MALFORMED_XML"
    assert parse_reply(replies[1]).message_type == "Receipt"
    assert parse_reply(replies[2]).code == "MALFORMED_XML"
    assert replies[3] == b""
    assert parse_reply(replies[4]).code == "TOO_MANY_ERRORS"
    assert await conn.closed_by_peer(timeout=5)


async def test_schema_invalid_frames_do_not_count(start: Start, raw: Open) -> None:
    gw = await start()
    conn = await raw(gw)
    invalid = [declaration(mid=f"inv-{i}").replace(b"<HSCode>847130</HSCode>",
                                                  b"<HSCode>84x</HSCode>") for i in range(20)]
    conn.send(*invalid, declaration(mid="valid-after-20"))
    for i in range(20):
        reply = await conn.reply()
        assert (reply.code, reply.correlation_id) == ("SCHEMA_INVALID", f"inv-{i}")
    last = await conn.reply()
    assert (last.message_type, last.correlation_id) == ("Receipt", "valid-after-20")
    conn.send(b"")
    assert await conn.frame() == b""  # still open


async def test_business_rejections_do_not_count(start: Start, raw: Open) -> None:
    gw = await start(SERVER_MAX_GARBAGE="2")
    conn = await raw(gw)
    conn.send(declaration(lrn="SAME-LRN"), *(declaration(lrn="SAME-LRN") for _ in range(5)))
    codes = [(await conn.reply()).code for _ in range(6)]
    assert codes == [None] + ["BUSINESS_RULE"] * 5
    conn.send(b"")
    assert await conn.frame() == b""


# -- heartbeats and pipelining -------------------------------------------------------------------


async def test_heartbeats_answered_with_empty_frames(start: Start, raw: Open) -> None:
    gw = await start()
    conn = await raw(gw)
    conn.send(b"", b"", declaration(mid="between"), b"")
    assert await conn.frame() == b""
    assert await conn.frame() == b""
    assert (await conn.reply()).correlation_id == "between"
    assert await conn.frame() == b""


async def test_hundred_pipelined_frames_answered_in_order(start: Start, raw: Open) -> None:
    """Quick rejections (schema) wait behind slower receipts (commit): order is arrival."""
    gw = await start()
    conn = await raw(gw)
    sent: list[tuple[str, str]] = []
    frames = []
    for i in range(100):
        mid = f"pipe-{i:03d}"
        if i % 10 == 3:
            frames.append(declaration(mid=mid).replace(b"<ProcedureType>IM<",
                                                       b"<ProcedureType>XX<"))
            sent.append((mid, "Rejection"))
        elif i % 10 == 7:
            frames.append(b"")
            sent.append(("", "heartbeat"))
        else:
            frames.append(declaration(mid=mid, lrn=f"LRN-{mid}"))
            sent.append((mid, "Receipt"))
    conn.send(*frames)
    for mid, kind in sent:
        payload = await conn.frame()
        if kind == "heartbeat":
            assert payload == b""
            continue
        reply = parse_reply(payload)
        assert (reply.correlation_id, reply.message_type) == (mid, kind)
    assert count_messages(gw.config) == 80


# -- backpressure --------------------------------------------------------------------------------


@dataclass
class InflightProbe:
    outstanding: int = 0
    peak: int = 0
    submitted: int = 0


@contextlib.contextmanager
def gated_writer(gw: Gateway) -> Iterator[tuple[threading.Event, InflightProbe]]:
    """Hold every message in the writer until the gate opens; count what reached it."""
    writer = gw.server.writer
    gate = threading.Event()
    probe = InflightProbe()
    apply, submit = writer.apply, writer.submit

    def gated_apply(uow: Any, job: Any) -> Any:
        gate.wait(timeout=60)
        return apply(uow, job)

    def counting_submit(job: Any) -> asyncio.Future[Any]:
        future = submit(job)
        probe.submitted += 1
        probe.outstanding += 1
        probe.peak = max(probe.peak, probe.outstanding)

        def done(_: asyncio.Future[Any]) -> None:
            probe.outstanding -= 1

        future.add_done_callback(done)
        return future

    writer.apply, writer.submit = gated_apply, counting_submit  # type: ignore[method-assign]
    try:
        yield gate, probe
    finally:
        gate.set()


async def test_max_inflight_stops_reading_one_frame_at_a_time(start: Start, raw: Open) -> None:
    """Frames sent one by one: the 5th is not read while 4 wait for the writer."""
    gw = await start(SERVER_MAX_INFLIGHT="4")
    conn = await raw(gw)
    with gated_writer(gw) as (gate, probe):
        for i in range(4):  # each frame read on its own
            conn.send(declaration(mid=f"bp1-{i}"))
            await wait_until(lambda i=i: probe.submitted == i + 1)  # type: ignore[misc]
        conn.send(*(declaration(mid=f"bp1-{i}") for i in range(4, 12)))
        await asyncio.sleep(0.3)
        [server_conn] = gw.server.connections
        assert server_conn.reading_paused
        assert probe.submitted == 4
        gate.set()
        ids = [(await conn.reply()).correlation_id for _ in range(12)]
    assert ids == [f"bp1-{i}" for i in range(12)]


async def test_max_inflight_caps_a_pipelined_burst(start: Start, raw: Open) -> None:
    gw = await start(SERVER_MAX_INFLIGHT="4")
    conn = await raw(gw)
    with gated_writer(gw) as (gate, probe):
        conn.send(*(declaration(mid=f"bp2-{i}") for i in range(40)))
        await wait_until(lambda: probe.submitted >= 4)
        await asyncio.sleep(0.3)
        peak_while_blocked = probe.peak
        gate.set()
        ids = [(await conn.reply()).correlation_id for _ in range(40)]
    assert ids == [f"bp2-{i}" for i in range(40)]
    assert peak_while_blocked <= 4, f"{peak_while_blocked} messages of one connection in flight"
    assert probe.peak <= 4, f"{probe.peak} messages of one connection in flight"


async def open_small_window(gw: Gateway, pki_dir: Path) -> Raw:
    """A client with tiny socket buffers, so that unread replies back up into the gateway."""
    assert gw.tls_port is not None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    try:
        sock.connect(("127.0.0.1", gw.tls_port))
        sock.setblocking(False)
        async with asyncio.timeout(10):
            reader, writer = await asyncio.open_connection(
                sock=sock, ssl=client_context(pki_dir, "BRK-0001"), server_hostname="localhost")
    except BaseException:
        sock.close()
        raise
    return Raw(reader, writer)


HIGH_WATER = 16 * 1024


async def flood_without_reading(gw: Gateway, pki_dir: Path) -> tuple[int, int, int]:
    """Send cheap requests without reading a reply until the client cannot write any more.

    Returns (frames sent, frames the gateway read, peak bytes of replies it buffered);
    then reads every reply.
    """
    prepared = 0
    prepare = gw.server.pipeline.prepare

    def counting_prepare(*args: Any) -> Any:
        nonlocal prepared
        prepared += 1
        return prepare(*args)

    gw.server.pipeline.prepare = counting_prepare  # type: ignore[method-assign]
    conn = await open_small_window(gw, pki_dir)
    try:
        await wait_until(lambda: len(gw.server.connections) == 1)
        [server_conn] = gw.server.connections
        assert server_conn.transport is not None
        # Stand-in for a slow network: without it the kernel would first soak up megabytes.
        server_conn.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        server_conn.transport.set_write_buffer_limits(high=HIGH_WATER)
        # A cheap request with a reply twice its size: UNKNOWN_MESSAGE_TYPE, no store involved.
        request = envelope("NoSuchType", '<NoSuchType xmlns="urn:x"/>', sender="BRK-0001")
        sent, peak = 0, 0
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, "the gateway kept reading"
            conn.send(*([request] * 20))
            sent += 20
            try:
                async with asyncio.timeout(0.5):
                    await conn.writer.drain()
            except TimeoutError:
                break
            finally:
                peak = max(peak, server_conn.transport.get_write_buffer_size())
        assert server_conn.writing_paused and server_conn.reading_paused
        read_by_gateway = prepared
        for _ in range(sent):  # once the client reads, every request it sent is answered
            assert (await conn.reply(timeout=30)).code == "UNKNOWN_MESSAGE_TYPE"
        return sent, read_by_gateway, peak
    finally:
        await conn.close()


async def test_client_that_never_reads_its_replies(start: Start, pki_dir: Path) -> None:
    """SECURITY 26: unread replies pause reading; memory stays bounded."""
    sent, read_by_gateway, peak = await flood_without_reading(await start(), pki_dir)
    assert read_by_gateway < sent
    assert peak < 2 * 1024 * 1024, f"{peak} bytes of replies buffered"


async def test_unread_replies_stop_at_the_high_water_mark(start: Start, pki_dir: Path) -> None:
    _, _, peak = await flood_without_reading(await start(), pki_dir)
    assert peak < HIGH_WATER + 64 * 1024, f"{peak} bytes of replies buffered"


# -- timeouts ------------------------------------------------------------------------------------


async def test_half_a_header_then_silence_is_closed_at_the_frame_deadline(start: Start,
                                                                          raw: Open) -> None:
    gw = await start(SERVER_FRAME_TIMEOUT_SECONDS="1")
    conn = await raw(gw)
    conn.send_raw(b"\x00\x00")
    started = time.monotonic()
    assert await conn.closed_by_peer(timeout=6)
    assert 0.9 <= time.monotonic() - started < 6


async def test_slow_drip_is_closed_at_the_frame_deadline(start: Start, raw: Open) -> None:
    """Slowloris: a byte every 200 ms keeps the socket busy but not the frame alive."""
    gw = await start(SERVER_FRAME_TIMEOUT_SECONDS="1")
    conn = await raw(gw)
    frame = encode_frame(declaration())
    started = time.monotonic()
    closed = False
    for byte in frame:
        conn.send_raw(bytes([byte]))
        try:
            async with asyncio.timeout(0.2):
                closed = (await conn.reader.read(1)) == b""
        except TimeoutError:
            continue
        except (ConnectionError, ssl.SSLError):
            closed = True
        if closed or time.monotonic() - started > 10:
            break
    assert closed
    assert 0.9 <= time.monotonic() - started < 6
    assert count_messages(gw.config) == 0


async def test_idle_connection_is_closed(start: Start, raw: Open) -> None:
    gw = await start(SERVER_IDLE_TIMEOUT_SECONDS="1")
    conn = await raw(gw)
    conn.send(b"")
    assert await conn.frame() == b""
    started = time.monotonic()
    assert await conn.closed_by_peer(timeout=6)
    assert 0.9 <= time.monotonic() - started < 6


async def test_idle_timeout_does_not_cut_a_busy_connection(start: Start, raw: Open) -> None:
    gw = await start(SERVER_IDLE_TIMEOUT_SECONDS="2")
    conn = await raw(gw)
    for _ in range(20):  # 4 s of traffic, never 2 s without a frame
        conn.send(b"")
        assert await conn.frame() == b""
        await asyncio.sleep(0.2)


# -- who may connect -----------------------------------------------------------------------------


async def assert_refused(gw: Gateway, context: ssl.SSLContext) -> None:
    """SECURITY 22: with TLS 1.3 the client's handshake may 'succeed'; nothing is processed."""
    assert gw.tls_port is not None
    try:
        conn = await open_raw(gw.tls_port, context)
    except (ssl.SSLError, ConnectionError):
        pass  # refused during the handshake
    else:
        try:
            conn.send(declaration(), b"")
            assert await conn.closed_by_peer(timeout=5), "the gateway answered"
        finally:
            await conn.close()
    await asyncio.sleep(0.1)
    assert count_messages(gw.config) == 0
    assert not gw.server.connections


async def test_client_without_certificate_processes_nothing(start: Start,
                                                            pki_dir: Path) -> None:
    gw = await start()
    await assert_refused(gw, client_context(pki_dir, None))


async def test_certificate_from_another_ca_processes_nothing(start: Start, pki_dir: Path,
                                                             tmp_path: Path) -> None:
    other = tmp_path / "other-pki"
    init_dev_pki(other, ["BRK-0001"])  # same CN, another CA
    context = client_context(pki_dir, None)
    context.load_cert_chain(other / "BRK-0001.crt", other / "BRK-0001.key")
    gw = await start()
    await assert_refused(gw, context)


def tls11_client(pki_dir: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(pki_dir / "ca.crt")
    context.load_cert_chain(pki_dir / "BRK-0001.crt", pki_dir / "BRK-0001.key")
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


def in_memory_handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> str | None:
    """Handshake two contexts through memory BIOs; the negotiated version."""
    s_in, s_out, c_in, c_out = (ssl.MemoryBIO() for _ in range(4))
    s = server.wrap_bio(s_in, s_out, server_side=True)
    c = client.wrap_bio(c_in, c_out, server_hostname="localhost")
    done = {"client": False, "server": False}
    for _ in range(10):
        for side, obj in (("client", c), ("server", s)):
            if not done[side]:
                with contextlib.suppress(ssl.SSLWantReadError):
                    obj.do_handshake()
                    done[side] = True
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return c.version()
    return None


async def test_tls_1_1_client_refused(start: Start, pki_dir: Path) -> None:
    # Control: this client really speaks TLS 1.1 when a server lets it.
    permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    permissive.load_cert_chain(pki_dir / "server.crt", pki_dir / "server.key")
    permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        permissive.minimum_version = ssl.TLSVersion.TLSv1
    assert in_memory_handshake(permissive, tls11_client(pki_dir)) == "TLSv1.1"

    gw = await start()
    assert gw.tls_port is not None
    with pytest.raises((ssl.SSLError, ConnectionError)):
        conn = await open_raw(gw.tls_port, tls11_client(pki_dir))
        await conn.close()
    await asyncio.sleep(0.1)
    assert count_messages(gw.config) == 0


async def test_revoked_certificate_refused(start: Start, pki_dir: Path, tmp_path: Path,
                                           raw: Open) -> None:
    pki_copy = tmp_path / "pki-copy"
    shutil.copytree(pki_dir, pki_copy)
    revoke(pki_copy, "BRK-0001")
    gw = await start(pki=pki_copy)
    assert gw.config.tls.crl_file == pki_copy / "crl.pem"
    await assert_refused(gw, client_context(pki_copy, "BRK-0001"))
    # Control: the CRL is loaded and current; a certificate not on it still gets in.
    trader = await raw(gw, context=client_context(pki_copy, "TRD-0001"))
    trader.send(declaration(sender="TRD-0001"))
    assert (await trader.reply()).message_type == "Receipt"


async def test_per_participant_connection_cap(start: Start, raw: Open) -> None:
    gw = await start(SERVER_MAX_CONNECTIONS_PER_PARTICIPANT="2")
    first, second = await raw(gw), await raw(gw)
    for conn in (first, second):
        conn.send(b"")
        assert await conn.frame() == b""
    third = await raw(gw)
    third.send(b"")
    assert await third.closed_by_peer(timeout=5)
    # Another participant is not affected; a freed place can be taken again.
    trader = await raw(gw, "TRD-0001")
    trader.send(b"")
    assert await trader.frame() == b""
    await first.close()
    await wait_until(lambda: gw.server.per_participant["BRK-0001"] == 1)
    fourth = await raw(gw)
    fourth.send(b"")
    assert await fourth.frame() == b""


# -- abrupt disconnects --------------------------------------------------------------------------


@pytest.fixture
def captured_logs() -> Iterator[list[dict[str, Any]]]:
    with structlog.testing.capture_logs() as logs:
        yield logs


async def test_abrupt_disconnects_leave_nothing_half_done(
        start: Start, raw: Open, captured_logs: list[dict[str, Any]],
        caplog: pytest.LogCaptureFixture) -> None:
    gw = await start()
    tasks_before = len(asyncio.all_tasks())

    # mid-frame: half a declaration, then a reset
    conn = await raw(gw)
    frame = encode_frame(declaration_with(3))
    conn.send_raw(frame[: len(frame) // 2])
    await conn.writer.drain()
    await asyncio.sleep(0.05)
    conn.abort()

    # mid-header
    conn = await raw(gw)
    conn.send_raw(b"\x00\x00")
    await conn.writer.drain()
    conn.abort()

    # mid-pipeline: 60 declarations of 1–5 goods items, gone before any reply is read
    expected: dict[str, int] = {}
    frames = []
    for i in range(60):
        lrn = f"ABORT-{i:02d}"
        expected[lrn] = i % 5 + 1
        frames.append(declaration_with(expected[lrn], lrn=lrn))
    submitted = 0
    submit = gw.server.writer.submit

    def counting_submit(job: Any) -> asyncio.Future[Any]:
        nonlocal submitted
        submitted += 1
        return submit(job)

    gw.server.writer.submit = counting_submit  # type: ignore[method-assign]
    conn = await raw(gw)
    conn.send(*frames)
    await wait_until(lambda: submitted >= 10)
    conn.abort()
    submitted_at_abort = submitted

    await wait_until(lambda: not gw.server.connections)
    await wait_until(lambda: gw.server.writer.queued == 0)
    await asyncio.sleep(0.2)  # the last batch's outcomes reach the loop

    # nothing half-written: every stored declaration is whole, and recorded once
    rows = query(gw.config, "SELECT d.lrn, count(g.seq) FROM declarations d "
                            "LEFT JOIN goods_items g ON g.declaration_id = d.id GROUP BY d.id")
    assert len(rows) >= submitted_at_abort  # what was read is committed, whole
    for lrn, items in rows:
        assert items == expected[lrn], lrn
    assert count_messages(gw.config) == len(rows)

    # no leaked connection, task or traceback
    assert sum(gw.server.per_participant.values()) == 0
    assert len(asyncio.all_tasks()) <= tasks_before
    assert not [e for e in captured_logs if e.get("log_level") in ("error", "critical")
                or "exc_info" in e]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]

    # and the gateway still serves
    fresh = await raw(gw)
    fresh.send(declaration_with(2, lrn="AFTER-ABORTS"))
    assert (await fresh.reply()).message_type == "Receipt"
