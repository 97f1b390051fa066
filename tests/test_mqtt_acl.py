"""`uams-gateway mqtt-config` and the broker it configures: mutual TLS with the Single
Window's CA, the certificate CN as user name, and an ACL under which a participant reads
only its own notifications and only the gateway publishes.

A real Mosquitto runs the generated configuration; the gateway publishes to it over
mqtts:// as `SCC`; `mosquitto_sub` with participant A's certificate (BRK-0001) subscribes
to A's topic *and* to B's (TRD-0001): it receives A's notifications and nothing of B's,
while B's own subscriber shows that B's notifications were indeed published.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from lxml import etree

from gateway.app import start_gateway
from gateway.client import UamsClient, parse_reply
from gateway.mqtt_config import acl_text
from gateway.pki import issue_participant_cert
from handlers.participants import Participant, Role
from protocol.schemas import SchemaSet
from tests.builders import declaration
from tests.conftest import PARTICIPANTS_FILE, client_context, make_config
from tests.test_mqtt_link import Mosquitto, free_port, needs_mosquitto

MOSQUITTO_SUB = Path("/usr/bin/mosquitto_sub")
MOSQUITTO_PUB = Path("/usr/bin/mosquitto_pub")
CLI = Path(sys.executable).with_name("uams-gateway")
A, B = "BRK-0001", "TRD-0001"
MARK = "MSG"


def topic(pid: str) -> str:
    return f"uams/v1/{pid}/status"


def test_acl_text_gives_each_participant_its_own_topic_only() -> None:
    people = [Participant("TRD-0001", "T", Role.TRADER, tax_id="1234567890"),
              Participant("PRT-0009", "P", Role.PARTNER, cert_cn=False,
                          cert_fingerprints=frozenset({"ab" * 32}))]
    text = acl_text("SCC", people)
    assert "user SCC\ntopic write uams/v1/+/status\n" in text
    assert "user TRD-0001\ntopic read uams/v1/TRD-0001/status\n" in text
    assert "user PRT-0009" not in text  # the broker cannot check a fingerprint
    assert "topic read uams/v1/+" not in text and "readwrite" not in text


class Sub:
    """A `mosquitto_sub` with a participant's certificate; its lines as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.messages: list[tuple[str, bytes]] = []
        self.output: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.output.append(line)
            if line.startswith(MARK + " "):
                _, t, payload = line.split(" ", 2)
                self.messages.append((t, bytes.fromhex(payload)))

    def on(self, t: str) -> list[bytes]:
        return [payload for got, payload in self.messages if got == t]

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        await self.process.wait()
        await self._reader


def tls_args(pki_dir: Path, pid: str | None, port: int) -> list[str]:
    args = ["-h", "localhost", "-p", str(port), "--cafile", str(pki_dir / "ca.crt")]
    if pid is not None:
        args += ["--cert", str(pki_dir / f"{pid}.crt"), "--key", str(pki_dir / f"{pid}.key")]
    return args


async def until(condition: Callable[[], bool], timeout: float = 15.0,
                then: Callable[[], Awaitable[None]] | None = None) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            if then is not None:
                await then()
            await asyncio.sleep(0.1)


@pytest.mark.mqtt
@needs_mosquitto
async def test_participant_receives_its_own_notifications_and_nothing_else(
        pki_dir: Path, tmp_path: Path) -> None:
    if not (pki_dir / "SCC.crt").exists():
        issue_participant_cert(pki_dir, "SCC")  # the gateway's own MQTT identity
    port = free_port()
    out = tmp_path / "broker"
    env = {**os.environ, "UAMS_TLS_CERT_FILE": str(pki_dir / "server.crt"),
           "UAMS_TLS_KEY_FILE": str(pki_dir / "server.key"),
           "UAMS_TLS_CA_FILE": str(pki_dir / "ca.crt"),
           "UAMS_TLS_CRL_FILE": str(pki_dir / "crl.pem"),
           "UAMS_PARTICIPANTS_FILE": str(PARTICIPANTS_FILE), "UAMS_PKI_DEV_DIR": str(pki_dir)}
    generated = await asyncio.create_subprocess_exec(
        str(CLI), "mqtt-config", "--out", str(out), "--port", str(port), env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    stdout, _ = await generated.communicate()
    assert generated.returncode == 0, stdout.decode()
    broker = Mosquitto(out / "mosquitto.conf", port)
    broker.start()
    subs: list[Sub] = []
    gateway = None
    try:
        async def sub(pid: str | None, *topics: str) -> Sub:
            args = [a for t in topics for a in ("-t", t)]
            process = await asyncio.create_subprocess_exec(
                str(MOSQUITTO_SUB), *tls_args(pki_dir, pid, port), *args, "-q", "1", "-d",
                "-F", f"{MARK} %t %x", stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT)
            subs.append(Sub(process))
            return subs[-1]

        async def publish(pid: str, t: str, message: str) -> None:
            process = await asyncio.create_subprocess_exec(
                str(MOSQUITTO_PUB), *tls_args(pki_dir, pid, port), "-t", t, "-m", message,
                "-q", "1", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await process.wait()

        a = await sub(A, topic(A), topic(B))
        b = await sub(B, topic(B))
        anonymous = await sub(None, "uams/v1/#")
        # Both subscriptions are live once the gateway identity's probes get through.
        await until(lambda: bool(a.on(topic(A))), then=lambda: publish("SCC", topic(A), "probe"))
        await until(lambda: bool(b.on(topic(B))), then=lambda: publish("SCC", topic(B), "probe"))
        # A participant cannot publish, not even on its own topic.
        await publish(A, topic(A), "forged")
        await publish(A, topic(B), "forged")

        config = make_config(pki_dir, tmp_path, MQTT_URL=f"mqtts://localhost:{port}",
                             MQTT_CA_FILE=str(pki_dir / "ca.crt"),
                             MQTT_CERT_FILE=str(pki_dir / "SCC.crt"),
                             MQTT_KEY_FILE=str(pki_dir / "SCC.key"),
                             MQTT_POLL_INTERVAL_SECONDS="0.1")
        gateway = await start_gateway(config)
        assert gateway.tls_port is not None
        async with await UamsClient.connect("127.0.0.1", gateway.tls_port,
                                            client_context(pki_dir, A),
                                            server_hostname="localhost") as client:
            # Consignee tax id of B: the one declaration notifies A and B (and A's partner).
            receipt = parse_reply(await client.request(declaration(tax_id="1234567890")))
            assert receipt.is_receipt, receipt.text

        def uams(messages: list[bytes]) -> list[bytes]:
            return [m for m in messages if m.startswith(b"<?xml")]

        await until(lambda: len(uams(b.on(topic(B)))) >= 2 and len(uams(a.on(topic(A)))) >= 2)
        await asyncio.sleep(0.5)  # anything of B's for A would have arrived with B's own
    finally:
        if gateway is not None:
            await gateway.stop()
        for s in subs:
            await s.close()
        broker.stop()

    assert a.on(topic(B)) == [], "A received B's notifications"
    assert b"forged" not in a.on(topic(A)) + b.on(topic(B))
    assert anonymous.messages == [] and anonymous.process.returncode != 0
    schemas = SchemaSet()
    for pid, received in ((A, uams(a.on(topic(A)))), (B, uams(b.on(topic(B))))):
        seqs = []
        for payload in received:
            root = etree.fromstring(payload)
            schemas.validate(root)
            assert root.findtext("{urn:uams:envelope:1}Header/{urn:uams:envelope:1}RecipientId") \
                == pid
            seqs.append(int(root.findtext(".//{urn:uams:status:1}Seq") or 0))
        assert seqs == list(range(1, len(seqs) + 1)), (pid, seqs)
