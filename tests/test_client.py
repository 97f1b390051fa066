"""The UAMS/1 client and `uams-gateway send`, against a small in-test gateway.

The fake gateway speaks the framing for real (plaintext or mutual TLS with
certificates generated here) and answers each request with a Receipt whose
CorrelationId is the request's MessageId, so the tests can see that every
reply reached the request it belongs to.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import ipaddress
import json
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway import send
from gateway.client import (
    ConnectionClosed,
    MalformedReply,
    ReplyDetail,
    UamsClient,
    _ClientProtocol,
    parse_reply,
)
from protocol.framing import FrameDecoder, encode_frame

PARTICIPANT = "BRK-0001"
REJECT_MARKER = b"<!-- reject me -->"

# -- certificates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    directory: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=self.ca)
        context.load_cert_chain(self.server_cert, self.server_key)
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca)
        context.load_cert_chain(self.client_cert, self.client_key)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
           issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False,
           usage: x509.ObjectIdentifier | None = None,
           names: list[x509.GeneralName] | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Path:
    path.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return path.with_suffix(".crt")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("UAMS Test CA", ca_key, "UAMS Test CA", ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _issue("SCC", server_key, "UAMS Test CA", ca_key,
                    usage=ExtendedKeyUsageOID.SERVER_AUTH,
                    names=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                           x509.DNSName("localhost")])
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _issue(PARTICIPANT, client_key, "UAMS Test CA", ca_key,
                    usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    _write(directory / "ca", ca, ca_key)
    (directory / "ca.key").unlink()
    _write(directory / "server", server, server_key)
    _write(directory / PARTICIPANT, client, client_key)
    return Pki(directory, directory / "ca.crt", directory / "server.crt",
               directory / "server.key", directory / f"{PARTICIPANT}.crt",
               directory / f"{PARTICIPANT}.key")


# -- the fake gateway -------------------------------------------------------------------------

MESSAGE_ID = re.compile(rb"<MessageId>([^<]*)</MessageId>")


def request_envelope(message_id: str, extra: bytes = b"") -> bytes:
    return (
        '<Envelope xmlns="urn:uams:envelope:1"><Header>'
        f"<MessageId>{message_id}</MessageId><MessageType>StatusRequest</MessageType>"
        f"<SenderId>{PARTICIPANT}</SenderId><SentAt>2026-12-03T10:15:00Z</SentAt></Header>"
        '<Body><StatusRequest xmlns="urn:uams:status:1">'
        "<Reference>AZ-DEC-2026-0000001</Reference></StatusRequest></Body></Envelope>"
    ).encode() + extra


def reply_envelope(message_type: str, correlation_id: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Envelope xmlns="urn:uams:envelope:1"><Header>'
        f"<MessageId>r-{correlation_id}</MessageId><MessageType>{message_type}</MessageType>"
        f"<SenderId>SCC</SenderId><RecipientId>{PARTICIPANT}</RecipientId>"
        f"<SentAt>2026-12-03T10:15:00.412Z</SentAt><CorrelationId>{correlation_id}"
        f"</CorrelationId></Header><Body>{body}</Body></Envelope>"
    ).encode()


def receipt(correlation_id: str, reference: str, duplicate: bool = False) -> bytes:
    return reply_envelope("Receipt", correlation_id, (
        '<Receipt xmlns="urn:uams:reply:1">'
        f"<RefMessageId>{correlation_id}</RefMessageId>"
        "<ReceivedAt>2026-12-03T10:15:00.412Z</ReceivedAt>"
        f"<Reference>{reference}</Reference><Status>REGISTERED</Status>"
        f"<Duplicate>{'true' if duplicate else 'false'}</Duplicate></Receipt>"
    ))


def rejection(correlation_id: str) -> bytes:
    return reply_envelope("Rejection", correlation_id, (
        '<Rejection xmlns="urn:uams:reply:1">'
        f"<RefMessageId>{correlation_id}</RefMessageId><Code>SCHEMA_INVALID</Code>"
        "<Reason>The message does not match its schema.</Reason>"
        '<Detail line="14" path="/Envelope/Body/CustomsDeclaration/GoodsItem[2]/HSCode">'
        "The value does not match the pattern.</Detail>"
        '<Detail rule="PERMIT-REQUIRED">A phytosanitary certificate is required.</Detail>'
        "<Retryable>false</Retryable></Rejection>"
    ))


def reference_for(message_id: str) -> str:
    number = int(re.sub(r"\D", "", message_id) or 0)
    return f"AZ-DEC-2026-{number:07d}"


@dataclass
class FakeGateway:
    """Answers every frame in order: heartbeat, Receipt, or Rejection for REJECT_MARKER.

    `close_on_frame` closes the connection when that (1-based) request frame
    arrives, after answering the ones before it. `hold_until` holds replies
    back until that many frames arrived (only a pipelining client gets any).
    """

    close_on_frame: int | None = None
    hold_until: int = 0
    frames: int = 0
    peer_names: list[str] = field(default_factory=list)
    transports: set[asyncio.Transport] = field(default_factory=set)
    gone: list[asyncio.Future[None]] = field(default_factory=list)
    port: int = 0

    def answer(self, payload: bytes) -> bytes:
        match = MESSAGE_ID.search(payload)
        message_id = match.group(1).decode() if match else "unknown"
        if REJECT_MARKER in payload:
            return rejection(message_id)
        return receipt(message_id, reference_for(message_id))


class _GatewayProtocol(asyncio.Protocol):
    def __init__(self, gateway: FakeGateway) -> None:
        self.gateway = gateway
        self.decoder = FrameDecoder()
        self.held: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        self.gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.gateway.gone.append(self.gone)
        self.transport = transport
        self.gateway.transports.add(transport)
        peer = transport.get_extra_info("peercert")
        if peer:
            self.gateway.peer_names.append(dict(x[0] for x in peer["subject"])["commonName"])

    def data_received(self, data: bytes) -> None:
        gateway = self.gateway
        self.decoder.receive_data(data)
        while (frame := self.decoder.next_frame()) is not None:
            if frame == b"":
                self.held.append(encode_frame(b""))
            else:
                gateway.frames += 1
                if gateway.frames == gateway.close_on_frame:
                    self._flush()
                    self.transport.close()
                    return
                self.held.append(encode_frame(gateway.answer(frame)))
            if gateway.frames >= gateway.hold_until:
                self._flush()

    def _flush(self) -> None:
        self.transport.write(b"".join(self.held))
        self.held.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        self.gateway.transports.discard(self.transport)
        self.gone.set_result(None)


StartGateway = Callable[..., Awaitable[FakeGateway]]


@pytest.fixture
async def start_gateway() -> AsyncIterator[StartGateway]:
    servers: list[tuple[asyncio.Server, FakeGateway]] = []

    async def start(ssl_context: ssl.SSLContext | None = None, **options: Any) -> FakeGateway:
        gateway = FakeGateway(**options)
        server = await asyncio.get_running_loop().create_server(
            lambda: _GatewayProtocol(gateway), "127.0.0.1", 0, ssl=ssl_context)
        gateway.port = server.sockets[0].getsockname()[1]
        servers.append((server, gateway))
        return gateway

    yield start
    for server, gateway in servers:
        server.close()
        for transport in list(gateway.transports):
            transport.close()
        await asyncio.wait_for(asyncio.gather(*gateway.gone), 10)
        await server.wait_closed()


@pytest.fixture(params=["plaintext", "mtls"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def connect(gateway: FakeGateway, mode: str, pki: Pki, **options: float) -> UamsClient:
    context = pki.client_context() if mode == "mtls" else None
    return await UamsClient.connect("127.0.0.1", gateway.port, context, **options)  # type: ignore[arg-type]


async def start(start_gateway: StartGateway, mode: str, pki: Pki, **options: int) -> FakeGateway:
    return await start_gateway(pki.server_context() if mode == "mtls" else None, **options)


# -- client -----------------------------------------------------------------------------------


async def test_pipelined_requests_get_their_own_replies_in_order(
        start_gateway: StartGateway, mode: str, pki: Pki) -> None:
    # The gateway answers nothing before all 100 frames arrived: only pipelining gets replies.
    gateway = await start(start_gateway, mode, pki, hold_until=100)
    async with await connect(gateway, mode, pki, timeout=10) as client:
        ids = [f"msg-{i:04d}" for i in range(100)]
        replies = await asyncio.gather(*(client.request(request_envelope(i)) for i in ids))
        parsed = [parse_reply(r) for r in replies]
        assert [r.correlation_id for r in parsed] == ids
        assert [r.reference for r in parsed] == [reference_for(i) for i in ids]
        assert not client.closed
    assert client.closed
    if mode == "mtls":
        assert gateway.peer_names == [PARTICIPANT]


async def test_heartbeat_keeps_its_place_among_requests(
        start_gateway: StartGateway, mode: str, pki: Pki) -> None:
    gateway = await start(start_gateway, mode, pki)
    async with await connect(gateway, mode, pki, timeout=10) as client:
        await client.heartbeat()
        first, _, second = await asyncio.gather(
            client.request(request_envelope("a-1")), client.heartbeat(),
            client.request(request_envelope("a-2")))
        assert parse_reply(first).correlation_id == "a-1"
        assert parse_reply(second).correlation_id == "a-2"


async def test_server_closing_fails_pending_requests_but_delivers_earlier_replies(
        start_gateway: StartGateway, mode: str, pki: Pki) -> None:
    gateway = await start(start_gateway, mode, pki, close_on_frame=3)
    async with await connect(gateway, mode, pki, timeout=10) as client:
        outcomes = await asyncio.gather(
            *(client.request(request_envelope(f"c-{i}")) for i in range(1, 6)),
            return_exceptions=True)
        assert [parse_reply(o).correlation_id for o in outcomes[:2]] == ["c-1", "c-2"]  # type: ignore[arg-type]
        assert all(isinstance(o, ConnectionClosed) for o in outcomes[2:])
        assert client.closed
        with pytest.raises(ConnectionClosed):
            await client.request(request_envelope("c-6"))


async def test_close_fails_requests_still_waiting(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(hold_until=10)  # never answers fewer than 10 frames
    client = await UamsClient.connect("127.0.0.1", gateway.port, timeout=10)
    pending = asyncio.ensure_future(client.request(request_envelope("w-1")))
    await asyncio.sleep(0.05)
    await client.close()
    with pytest.raises(ConnectionClosed):
        await pending


async def test_reply_timeout_keeps_later_replies_matched(start_gateway: StartGateway) -> None:
    gateway = await start_gateway(hold_until=2)
    async with await UamsClient.connect("127.0.0.1", gateway.port, timeout=0.2) as client:
        with pytest.raises(TimeoutError):
            await client.request(request_envelope("t-1"))  # held: times out
        # The reply to t-1 arrives with t-2's and is dropped; t-2 gets its own.
        reply = await client.request(request_envelope("t-2"))
        assert parse_reply(reply).correlation_id == "t-2"


async def test_untrusted_server_certificate_fails_the_handshake(
        start_gateway: StartGateway, pki: Pki) -> None:
    gateway = await start_gateway(pki.server_context())
    stranger = ssl.create_default_context()  # system CAs, not the test CA
    with pytest.raises(ssl.SSLError):
        await UamsClient.connect("127.0.0.1", gateway.port, stranger, timeout=10)


class _RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return False


async def test_frames_wait_while_the_transport_is_paused() -> None:
    protocol = _ClientProtocol(asyncio.get_running_loop(), max_frame_bytes=1024)
    transport = _RecordingTransport()
    protocol.connection_made(transport)
    protocol.pause_writing()
    replies = [protocol.send(encode_frame(p)) for p in (b"one", b"two")]
    assert transport.written == []
    protocol.resume_writing()
    assert transport.written == [encode_frame(b"one"), encode_frame(b"two")]
    protocol.data_received(encode_frame(b"r1") + encode_frame(b"r2"))
    assert [r.result() for r in replies] == [b"r1", b"r2"]


async def test_oversized_reply_frame_closes_the_connection() -> None:
    protocol = _ClientProtocol(asyncio.get_running_loop(), max_frame_bytes=4)
    transport = _RecordingTransport()
    aborted: list[bool] = []
    transport.abort = lambda: aborted.append(True)  # type: ignore[method-assign]
    protocol.connection_made(transport)
    reply = protocol.send(encode_frame(b"x"))
    protocol.data_received(encode_frame(b"too large"))
    assert aborted == [True]
    protocol.connection_lost(None)
    with pytest.raises(ConnectionClosed, match="max_frame_bytes"):
        reply.result()


# -- parse_reply ------------------------------------------------------------------------------


def test_parse_receipt() -> None:
    reply = parse_reply(receipt("m-1", "AZ-DEC-2026-0000042", duplicate=True))
    assert (reply.message_type, reply.correlation_id) == ("Receipt", "m-1")
    assert (reply.reference, reply.status, reply.duplicate) == (
        "AZ-DEC-2026-0000042", "REGISTERED", True)
    assert reply.is_receipt and not reply.is_rejection
    assert reply.details == [] and reply.code is None


def test_parse_rejection_with_details() -> None:
    reply = parse_reply(rejection("m-2"))
    assert reply.is_rejection
    assert (reply.code, reply.reason, reply.retryable) == (
        "SCHEMA_INVALID", "The message does not match its schema.", False)
    assert reply.details == [
        ReplyDetail("The value does not match the pattern.", 14,
                    "/Envelope/Body/CustomsDeclaration/GoodsItem[2]/HSCode", None),
        ReplyDetail("A phytosanitary certificate is required.", None, None,
                    "PERMIT-REQUIRED"),
    ]
    text, line, path, rule = reply.details[0]
    assert line == 14


def test_parse_query_answer_keeps_the_body() -> None:
    reply = parse_reply(reply_envelope("StatusResponse", "q-1", (
        '<StatusResponse xmlns="urn:uams:status:1"><Reference>AZ-DEC-2026-0000001</Reference>'
        "<Kind>DECLARATION</Kind><Status>RELEASED</Status>"
        "<LastChangedAt>2026-12-03T10:15:00Z</LastChangedAt></StatusResponse>")))
    assert reply.message_type == "StatusResponse"
    assert not reply.is_receipt and not reply.is_rejection
    assert reply.body.findtext("{urn:uams:status:1}Status") == "RELEASED"
    assert reply.text.splitlines()[1].strip() == "<Reference>AZ-DEC-2026-0000001</Reference>"


@pytest.mark.parametrize("payload", [
    b"", b"not xml", b"<Other/>", b'<Envelope xmlns="urn:uams:envelope:1"><Header/></Envelope>',
])
def test_parse_reply_refuses_what_is_not_a_reply(payload: bytes) -> None:
    with pytest.raises(MalformedReply):
        parse_reply(payload)


def test_parse_reply_does_not_expand_entities() -> None:
    payload = (b'<!DOCTYPE Envelope [<!ENTITY x "EXPANDED">]>'
               + receipt("m-3", "&x;").split(b"\n", 1)[1])
    reply = parse_reply(payload)
    assert "EXPANDED" not in (reply.reference or "")


# -- send -------------------------------------------------------------------------------------


def send_args(*argv: str | Path | int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="uams-gateway send")
    send.add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


def message_files(directory: Path, count: int, reject: frozenset[int] = frozenset()) -> Path:
    directory.mkdir()
    for i in range(1, count + 1):
        extra = REJECT_MARKER if i in reject else b""
        (directory / f"decl-{i:03d}.xml").write_bytes(request_envelope(f"m-{i:03d}", extra))
    (directory / "README.txt").write_text("not a message")
    return directory


async def run_send(*argv: str | Path | int) -> int:
    return await asyncio.to_thread(send.run, send_args(*argv))


async def test_send_directory_all_receipts(start_gateway: StartGateway, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    gateway = await start_gateway()
    directory = message_files(tmp_path / "out", 3)
    status = await run_send(directory, "--as", PARTICIPANT, "--plaintext",
                            "--port", gateway.port)
    out = capsys.readouterr().out
    assert status == 0
    assert out.splitlines() == [
        f"{directory / f'decl-{i:03d}.xml'} → Receipt AZ-DEC-2026-{i:07d} REGISTERED"
        for i in (1, 2, 3)
    ]


async def test_send_returns_1_on_a_rejection(start_gateway: StartGateway, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    gateway = await start_gateway()
    directory = message_files(tmp_path / "out", 3, reject=frozenset({2}))
    status = await run_send(directory, "--as", PARTICIPANT, "--plaintext",
                            "--port", gateway.port)
    out = capsys.readouterr().out
    assert status == 1
    assert "AZ-DEC-2026-0000001" in out and "AZ-DEC-2026-0000003" in out
    assert "decl-002.xml → Rejection SCHEMA_INVALID: The message does not match its schema." in out
    assert ("    line 14 /Envelope/Body/CustomsDeclaration/GoodsItem[2]/HSCode: "
            "The value does not match the pattern.") in out


async def test_send_pipelined_over_connections_prints_in_file_order(
        start_gateway: StartGateway, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    gateway = await start_gateway()
    directory = message_files(tmp_path / "out", 40, reject=frozenset({7}))
    status = await run_send(directory, "--as", PARTICIPANT, "--plaintext", "--port",
                            gateway.port, "--concurrency", "8", "--connections", "3", "--json")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 1
    assert [line["file"] for line in lines] == [
        str(directory / f"decl-{i:03d}.xml") for i in range(1, 41)]
    assert [line["correlation_id"] for line in lines] == [f"m-{i:03d}" for i in range(1, 41)]
    assert lines[6]["code"] == "SCHEMA_INVALID" and lines[6]["details"][0]["line"] == 14
    assert lines[0]["reference"] == "AZ-DEC-2026-0000001"


async def test_send_with_mutual_tls(start_gateway: StartGateway, pki: Pki, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("gateway.pki")
    gateway = await start_gateway(pki.server_context())
    directory = message_files(tmp_path / "out", 2)
    status = await run_send(directory / "decl-002.xml", directory / "decl-001.xml", "--as",
                            PARTICIPANT, "--pki-dir", pki.directory, "--port", gateway.port)
    out = capsys.readouterr().out
    assert status == 0
    assert out.index("AZ-DEC-2026-0000002") < out.index("AZ-DEC-2026-0000001")
    assert gateway.peer_names == [PARTICIPANT]


async def test_send_without_certificates_says_how_to_get_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = message_files(tmp_path / "out", 1)
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_text("")
    status = await run_send(directory, "--as", PARTICIPANT, "--pki-dir", tmp_path / "pki")
    err = capsys.readouterr().err
    assert status == 2
    assert f"run `uams-gateway certs issue {PARTICIPANT}`" in err
    assert len(err.splitlines()) == 1


async def test_send_connection_refused_is_one_line(
        start_gateway: StartGateway, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    server = await asyncio.get_running_loop().create_server(asyncio.Protocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    directory = message_files(tmp_path / "out", 1)
    status = await run_send(directory, "--as", PARTICIPANT, "--plaintext", "--port", port)
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err


async def test_send_reports_a_connection_closed_by_the_gateway(
        start_gateway: StartGateway, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    gateway = await start_gateway(close_on_frame=2)
    directory = message_files(tmp_path / "out", 3)
    status = await run_send(directory, "--as", PARTICIPANT, "--plaintext",
                            "--port", gateway.port, "--quiet")
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""  # --quiet: receipts are not printed
    assert "closed the connection" in captured.err and "Traceback" not in captured.err


async def test_send_refuses_a_missing_file(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    status = await run_send(tmp_path / "nope.xml", "--as", PARTICIPANT, "--plaintext")
    assert status == 2
    assert "nope.xml: no such file or directory" in capsys.readouterr().err
