"""`adapters.mqtt`: broker URLs, ordered QoS 1 publishing, and what a lost broker does.

Also home of `Mosquitto`, a real broker on a free port for the MQTT tests that need
to stop and start one.
"""

from __future__ import annotations

import asyncio
import getpass
import socket
import subprocess
import time
from pathlib import Path

import pytest

from adapters.mqtt import BrokerUnavailable, MqttLink, Subscription, parse_broker_url

MOSQUITTO = Path("/usr/sbin/mosquitto")
MACHINE_BROKER = "mqtt://127.0.0.1:1883"

needs_mosquitto = pytest.mark.skipif(not MOSQUITTO.exists(), reason="mosquitto not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plain_broker_conf(directory: Path, port: int) -> Path:
    """A plain loopback listener with persistence (sessions survive a restart)."""
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    conf = directory / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                    f"persistence_location {data}/\n")
    return conf


class Mosquitto:
    """A Mosquitto process for one test: `start()`, `stop()`, `start()` again on the same port.

    It runs as the current user (`user` is prepended to the configuration) so that it can
    read the test's certificates and write its persistence folder.
    """

    def __init__(self, conf: Path, port: int) -> None:
        self.port = port
        self.conf = conf.parent / f"run-{conf.name}"
        self.conf.write_text(f"user {getpass.getuser()}\n{conf.read_text()}")
        self.log = conf.parent / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        assert self._process is None
        with self.log.open("ab") as log:
            self._process = subprocess.Popen([str(MOSQUITTO), "-c", str(self.conf)],
                                             stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()  # SIGTERM: saves the persistence database, then exits
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


@pytest.fixture
def mosquitto(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A plain Mosquitto of this test on a free loopback port, stopped afterwards."""
    if not MOSQUITTO.exists():
        pytest.skip("mosquitto not installed")
    port = free_port()
    broker = Mosquitto(plain_broker_conf(tmp_path / "broker", port), port)
    broker.start()
    yield broker
    broker.stop()


def test_broker_urls() -> None:
    plain = parse_broker_url("mqtt://127.0.0.1")
    assert (plain.host, plain.port, plain.tls) == ("127.0.0.1", 1883, False)
    tls = parse_broker_url("mqtts://user:p%40ss@broker.example:9883")
    assert (tls.host, tls.port, tls.tls, tls.username, tls.password) == \
        ("broker.example", 9883, True, "user", "p@ss")
    assert "p@ss" not in str(tls) and str(tls) == "mqtts://broker.example:9883"
    for bad in ("http://x", "mqtt://", "mqtt://host/path", "127.0.0.1:1883"):
        with pytest.raises(ValueError):
            parse_broker_url(bad)


@pytest.mark.mqtt
async def test_publishes_in_order_and_waits_for_every_puback(mosquitto: Mosquitto) -> None:
    address = parse_broker_url(f"mqtt://127.0.0.1:{mosquitto.port}")
    messages = [("uams/v1/T-ORDER/status", f"{i}".encode()) for i in range(300)]
    async with Subscription(address, ["uams/v1/T-ORDER/status"], client_id="t-sub") as sub:
        async with MqttLink(address, client_id="t-pub", max_inflight=50) as link:
            assert link.connected
            await link.publish_in_order(messages)
        got = [(await sub.receive(5)).payload for _ in messages]
    assert got == [payload for _, payload in messages]


@pytest.mark.mqtt
async def test_lost_broker_raises_with_the_acknowledged_prefix(mosquitto: Mosquitto) -> None:
    address = parse_broker_url(f"mqtt://127.0.0.1:{mosquitto.port}")
    async with MqttLink(address, client_id="t-pub", ack_timeout=2.0) as link:
        await link.publish_in_order([("t/a", b"1")])
        mosquitto.stop()
        with pytest.raises(BrokerUnavailable) as lost:
            for _ in range(100):  # the loss shows at the latest on the next publish
                await link.publish_in_order([("t/a", b"2"), ("t/a", b"3")])
                await asyncio.sleep(0.05)
        assert lost.value.acked == 0
        assert not link.connected


async def test_unreachable_broker_is_unavailable() -> None:
    address = parse_broker_url(f"mqtt://127.0.0.1:{free_port()}")
    with pytest.raises(BrokerUnavailable):
        async with MqttLink(address, client_id="t-nobody"):
            pass
