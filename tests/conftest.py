"""Shared fixtures: a development PKI made at test time, an in-process gateway on port 0
(embedded SQLite in a temp folder), and mTLS clients for any participant."""

from __future__ import annotations

import ssl
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from gateway.app import Gateway, start_gateway
from gateway.client import UamsClient
from gateway.config import Config, load_config
from gateway.pki import client_ssl_context, init_dev_pki

ROOT = Path(__file__).resolve().parents[1]
PARTICIPANTS_FILE = ROOT / "config" / "participants.toml"
RULES_FILE = ROOT / "config" / "rules.toml"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development PKI for every shipped participant, generated once per test run."""
    directory = tmp_path_factory.mktemp("pki")
    init_dev_pki(directory, participant_ids())
    return directory


def participant_ids() -> list[str]:
    """Ids in the shipped registry (read raw: signing ministries need their certificates first)."""
    data = tomllib.loads(PARTICIPANTS_FILE.read_text())
    return sorted(p["id"] for p in data["participant"])


def make_config(pki_dir: Path, tmp_path: Path, **env: str) -> Config:
    """A test configuration: port 0, SQLite under tmp_path, certificates from pki_dir.

    Keyword arguments are environment overrides without the prefix,
    e.g. `SERVER_MAX_GARBAGE="3"`.
    """
    environ = {
        "UAMS_SERVER_PORT": "0",
        "UAMS_STORE_URL": f"sqlite:///{tmp_path / 'uams.db'}",
        "UAMS_TLS_CERT_FILE": str(pki_dir / "server.crt"),
        "UAMS_TLS_KEY_FILE": str(pki_dir / "server.key"),
        "UAMS_TLS_CA_FILE": str(pki_dir / "ca.crt"),
        "UAMS_TLS_CRL_FILE": str(pki_dir / "crl.pem"),
        "UAMS_PARTICIPANTS_FILE": str(PARTICIPANTS_FILE),
        "UAMS_RULES_FILE": str(RULES_FILE),
        "UAMS_PKI_DEV_DIR": str(pki_dir),
        "UAMS_LOGGING_LEVEL": "WARNING",
    }
    environ.update({f"UAMS_{k}": v for k, v in env.items()})
    return load_config(None, environ=environ)


def client_context(pki_dir: Path, participant_id: str | None) -> ssl.SSLContext:
    if participant_id is None:
        return client_ssl_context(pki_dir / "ca.crt", None, None)
    return client_ssl_context(pki_dir / "ca.crt", pki_dir / f"{participant_id}.crt",
                              pki_dir / f"{participant_id}.key")


@pytest.fixture
def config(pki_dir: Path, tmp_path: Path) -> Config:
    return make_config(pki_dir, tmp_path)


@pytest.fixture
async def gateway(config: Config) -> AsyncIterator[Gateway]:
    """A running gateway (mutual TLS on 127.0.0.1, port 0, SQLite in a temp folder)."""
    gw = await start_gateway(config)
    try:
        yield gw
    finally:
        await gw.stop()


Connect = Callable[[str], Awaitable[UamsClient]]


@asynccontextmanager
async def connector(gateway: Gateway, pki_dir: Path) -> AsyncIterator[Connect]:
    """`connect(participant_id)` for a gateway, closing every client at the end."""
    clients: list[UamsClient] = []

    async def connect(participant_id: str) -> UamsClient:
        assert gateway.tls_port is not None
        client = await UamsClient.connect("127.0.0.1", gateway.tls_port,
                                          client_context(pki_dir, participant_id),
                                          server_hostname="localhost")
        clients.append(client)
        return client

    try:
        yield connect
    finally:
        for client in clients:
            await client.close()


@pytest.fixture
async def connect(gateway: Gateway, pki_dir: Path) -> AsyncIterator[Connect]:
    """`await connect("BRK-0001")` → a client with that participant's certificate."""
    async with connector(gateway, pki_dir) as connect_as:
        yield connect_as
